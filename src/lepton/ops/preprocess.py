"""Fused preprocessing ops (placeholder: the preprocess area replaces this module)."""


class ColumnStats:
    pass


def column_stats(*args, **kwargs):
    raise NotImplementedError


def merge_stats(*args, **kwargs):
    raise NotImplementedError


def preprocess(*args, **kwargs):
    raise NotImplementedError
