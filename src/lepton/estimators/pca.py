"""PCA estimator (placeholder: the pca area replaces this module)."""


class PCA:
    pass
