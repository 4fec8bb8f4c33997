"""Search: filter/order_by strings -> typed AST -> SQLAlchemy Core, plus page tokens.

Typical store use::

    comparisons = parse_filter(filter_string, Target.RUNS)
    order_keys = parse_order_by(order_by, Target.RUNS)
    limit = check_max_results(max_results, Target.RUNS)
    offset = decode_page_token(page_token)
    query = run_search_query(experiment_ids, view_type, comparisons, order_keys)
    ids, token = fetch_page(lambda q: list(conn.execute(q).scalars()), query, offset, limit)

Modules: ``tokens`` (lexer), ``grammar`` (parser), ``targets`` (per-endpoint vocabulary),
``nodes`` (AST and options), ``clauses`` (shared SQL pieces), ``compile`` (runs,
experiments, logged models), ``registry`` (models, versions), ``paging`` (tokens, limits).
"""

from service.store.search.compile import (
    experiment_search_query,
    logged_model_search_query,
    run_search_query,
)
from service.store.search.grammar import parse_filter, parse_logged_model_order_by, parse_order_by
from service.store.search.nodes import (
    Comparison,
    DatasetFilter,
    KeyType,
    Op,
    OrderKey,
)
from service.store.search.paging import (
    check_max_results,
    decode_page_token,
    encode_page_token,
    fetch_page,
)
from service.store.search.registry import (
    model_version_search_query,
    registered_model_search_query,
)
from service.store.search.targets import Target

__all__ = [
    "Comparison",
    "DatasetFilter",
    "KeyType",
    "Op",
    "OrderKey",
    "Target",
    "check_max_results",
    "decode_page_token",
    "encode_page_token",
    "experiment_search_query",
    "fetch_page",
    "logged_model_search_query",
    "model_version_search_query",
    "parse_filter",
    "parse_logged_model_order_by",
    "parse_order_by",
    "registered_model_search_query",
    "run_search_query",
]
