"""Risk: sizing, limits and kill switches on the one path every order takes.

The cycle builds an `AccountView`, turns each strategy idea into a `Candidate` and asks
`RiskManager.evaluate` for a `Decision`; nothing reaches an executor any other way.
"""

from engine.risk.account import AccountView, Candidate
from engine.risk.manager import Decision, RiskManager
from engine.risk.rules import Rule, RuleContext, Verdict, default_rules

__all__ = [
    "AccountView",
    "Candidate",
    "Decision",
    "RiskManager",
    "Rule",
    "RuleContext",
    "Verdict",
    "default_rules",
]
