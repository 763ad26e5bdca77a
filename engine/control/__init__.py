"""Control: the local socket consoles attach through, its protocol and its files."""
