"""Paper summaries: the key sentence extracted from the abstract (keysentence.py) and its
stored copy kept current (refresh.py)."""
