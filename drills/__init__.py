"""`make drill`: fault drills with reconciliation (python -m drills). See drills/__main__.py."""
