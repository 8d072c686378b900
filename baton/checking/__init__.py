"""Checking: the one preflight a deploy stops at and ``baton check`` prints in full."""
