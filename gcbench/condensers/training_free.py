"""Training-free condensation (CGC, class-wise k-means of propagated features): see issue 23."""
