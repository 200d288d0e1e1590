"""Authors: name normalisation (pure), see names.py."""
