"""The engine loop: the step, its inbox, its run state and what each step reports."""
