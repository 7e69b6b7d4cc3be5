"""Preprocessor estimator (placeholder: the preprocess area replaces this module)."""


class Preprocessor:
    pass
