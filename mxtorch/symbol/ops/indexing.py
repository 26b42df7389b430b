"""Indexing and sorting ops: one_hot, pick, topk, sort, argsort, argmax/argmin, take."""
