"""The code's own syntax trees, for the tests that read the code (write paths, model forms)."""

import ast
import functools


@functools.cache
def parsed(text):
    """ast.parse(text), parsed again if CPython 3.11 reports "AST constructor recursion depth
    mismatch": its AST constructor keeps one depth counter for the interpreter (gh-106905), and
    another thread building a tree at the same moment, such as a browser test's live server
    printing a traceback (3.11 parses the failing line to place its carets), upsets it."""
    for _attempt in range(4):
        try:
            return ast.parse(text)
        except SystemError as error:
            if "recursion depth mismatch" not in str(error):
                raise
    return ast.parse(text)
