"""A heterogeneous graph neural network that scores applications, with baselines."""
