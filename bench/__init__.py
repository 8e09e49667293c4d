"""`make bench`: Salesync under load (python -m bench). See bench/__main__.py."""
