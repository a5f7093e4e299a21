"""Evaluation against ground truth: ``formcheck eval`` on clips, derived cases, and the research datasets."""
