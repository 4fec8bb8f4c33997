"""Filter and order_by strings -> typed, validated AST (:mod:`service.store.search.nodes`).

The grammar, a tiny SQL-like subset as MLflow accepts it::

    filter     := [ comparison { AND comparison } ]          (AND/OR/IN/... any case)
    comparison := key op scalar | key [NOT] IN list | key IS [NOT] NULL
    op         := = | != | < | <= | > | >= | LIKE | ILIKE
    list       := "(" scalar { "," scalar } [","] ")"
    scalar     := 'string' | "string" | number
    key        := part { "." part }        part := word | `quoted` | "quoted" (after a dot)
    order_by   := key [ASC | DESC]

A key's first part is its type prefix (``metrics``, ``params``, ``tags``, ``attributes``,
``dataset`` and MLflow's aliases); a one-part key is an attribute. The rest, dots
included, is the name: ``tags.mlflow.parentRunId`` is the tag ``mlflow.parentRunId``.
Strings escape their quote by doubling it or with a backslash. A real tokenizer, so
``'salt and pepper'`` stays one value. OR and parentheses are rejected, as in MLflow.
Every error is :class:`InvalidParameterValue`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from service.store.search.nodes import Comparison, KeyType, Op, OrderKey, Value
from service.store.search.targets import (
    DATASET_KEYS,
    PREFIXES,
    SPAN_KEYS,
    SPECS,
    Attribute,
    AttrKind,
    Target,
    TargetSpec,
)
from service.store.search.tokens import INT64, INTEGER, Kind, Token, fail, tokenize

_SYMBOL_OPS = {"=": Op.EQ, "!=": Op.NE, "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE}


class _Parser:
    def __init__(self, text: str, context: str, spec: TargetSpec) -> None:
        self.context = context
        self.spec = spec
        self.tokens = tokenize(text, context)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        token = self.tokens[self.i]
        if token.kind is not Kind.END:
            self.i += 1
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token.kind is Kind.KEYWORD and token.value in words:
            self.i += 1
            return str(token.value)
        return None

    def comparison(self) -> Comparison:
        key = self.next()
        if key.kind is not Kind.KEY:
            found = f"'{key.text}'" if key.text else "the end"
            fail(
                f"Invalid {self.context}: expected a key such as 'metrics.loss' at "
                f"position {key.pos}, found {found}"
            )
        key_type, name, attribute = resolve_key(key, self.spec, order=False)
        op, op_text = self.operator(key)
        allowed = self.spec.ops_for(key_type, attribute)
        if op is None or op not in allowed:
            fail(f"Invalid comparator '{op_text}' not one of '{_op_set(allowed)}'")
        value: Value
        if op in (Op.IS_NULL, Op.IS_NOT_NULL):
            value = None
        elif op in (Op.IN, Op.NOT_IN):
            value = self.value_list(name, attribute)
        else:
            value = self.scalar(key_type, name, attribute)
        return Comparison(key_type, name, op, value)

    def operator(self, key: Token) -> tuple[Op | None, str]:
        token = self.next()
        if token.kind is Kind.OP:
            return _SYMBOL_OPS.get(token.text), token.text
        if token.kind is Kind.KEYWORD:
            word = str(token.value)
            if word in ("LIKE", "ILIKE", "IN"):
                return Op(word), token.text
            if word == "NOT" and self.keyword("IN"):
                return Op.NOT_IN, "NOT IN"
            if word == "IS":
                negated = self.keyword("NOT") is not None
                if self.keyword("NULL"):
                    return (Op.IS_NOT_NULL, "IS NOT NULL") if negated else (Op.IS_NULL, "IS NULL")
            return None, token.text
        found = f"'{token.text}'" if token.text else "the end"
        fail(f"Invalid {self.context}: expected a comparator after '{key.text}', found {found}")

    def scalar(self, key_type: KeyType, name: str, attribute: Attribute | None) -> Value:
        token = self.next()
        if key_type is KeyType.METRIC or (attribute and attribute.kind is AttrKind.NUMBER):
            if token.kind is not Kind.NUMBER or not isinstance(token.value, int | float):
                what = "metric" if attribute is None else f"numeric attribute: {name}"
                fail(f"Expected numeric value type for {what}. Found {token.text or 'nothing'}")
            return float(token.value) if attribute is None else token.value
        if attribute and attribute.kind is AttrKind.INTEGER_ID:
            return _integer_id(token, name)
        return self.string(token, key_type)

    def string(self, token: Token, key_type: KeyType) -> str:
        if token.kind is Kind.STRING:
            return str(token.value)
        if token.kind is Kind.NUMBER and self.spec.numbers_as_strings:
            return token.text
        if token.kind in (Kind.KEY, Kind.KEYWORD):
            fail(
                "Parameter value is either not quoted or unidentified quote types used for "
                f"string value {token.text}. Use either single or double quotes."
            )
        fail(
            f"Expected a quoted string value for {key_type} (e.g. 'my-value'). "
            f"Got value {token.text or 'nothing'}"
        )

    def value_list(
        self, name: str, attribute: Attribute | None
    ) -> tuple[str, ...] | tuple[int, ...]:
        if self.next().kind is not Kind.LPAREN:
            fail(
                f"Invalid {self.context}: expected a parenthesised list of quoted strings after IN"
            )
        items: list[Token] = []
        while self.peek().kind is not Kind.RPAREN:
            items.append(self.next())
            if self.peek().kind is Kind.COMMA:
                self.next()
            elif self.peek().kind is not Kind.RPAREN:
                fail(
                    "While parsing a list in the query, expected a non-empty list of string "
                    "values, but got ill-formed list."
                )
        self.next()
        if not items:
            fail(
                "While parsing a list in the query, expected a non-empty list of string "
                "values, but got empty list"
            )
        if attribute and attribute.kind is AttrKind.INTEGER_ID:
            return tuple(_integer_id(item, name) for item in items)
        accepted = (Kind.STRING, Kind.NUMBER) if self.spec.numbers_as_strings else (Kind.STRING,)
        if any(item.kind not in accepted for item in items):
            shown = ", ".join(item.text for item in items)
            fail(
                "While parsing a list in the query, expected string value, punctuation, or "
                f"whitespace, but got different type in list: ({shown})"
            )
        return tuple(str(item.value) if item.kind is Kind.STRING else item.text for item in items)


def _integer_id(token: Token, name: str) -> int:
    text = str(token.value) if token.kind in (Kind.STRING, Kind.NUMBER) else token.text
    if not INTEGER.fullmatch(text.strip()) or not -INT64 <= int(text) < INT64:
        fail(f"Invalid {name} '{text}'. It must be a valid integer.")
    return int(text)


def _op_set(ops: Sequence[Op]) -> str:
    return "{" + ", ".join(repr(op.value) for op in ops) + "}"


def resolve_key(
    token: Token, spec: TargetSpec, *, order: bool
) -> tuple[KeyType, str, Attribute | None]:
    """Map a key token to (key type, canonical name, attribute spec or None)."""
    parts = token.parts
    allowed = spec.order_key_types if order else spec.key_types()
    if len(parts) == 1:
        key_type, name = KeyType.ATTRIBUTE, parts[0]
    else:
        prefix_type = spec.prefixes.get(parts[0].lower())
        if prefix_type is None or prefix_type not in allowed:
            valid = sorted(str(allowed_type) for allowed_type in allowed)
            fail(f"Invalid entity type '{parts[0]}'. Valid values are {valid}")
        key_type, name = prefix_type, ".".join(parts[1:])
    if not name:
        fail(f"Invalid key '{token.text}': the name after the prefix is empty")
    if key_type is KeyType.ATTRIBUTE:
        table = spec.order_attributes if order else spec.attributes
        attribute = table.get(name)
        if attribute is None:
            fail(f"Invalid attribute key '{name}' specified. Valid keys are '{sorted(table)}'")
        return key_type, attribute.name, attribute
    if key_type is KeyType.DATASET and name not in DATASET_KEYS:
        fail(f"Invalid dataset key '{name}' specified. Valid keys are '{list(DATASET_KEYS)}'")
    attribute_key = name.startswith("attributes.") and len(name) > len("attributes.")
    if key_type is KeyType.SPAN and name not in SPAN_KEYS and not attribute_key:
        fail(
            f"Invalid span attribute '{name}'. Supported attributes: {list(SPAN_KEYS)}, "
            "attributes.<attribute_name>."
        )
    return key_type, name, None


def parse_filter(text: str | None, target: Target) -> list[Comparison]:
    """Parse an AND-ed filter string for ``target``; empty or blank means no filter."""
    if text is None or not text.strip():
        return []
    parser = _Parser(text, f"filter '{text}'", SPECS[target])
    comparisons = [parser.comparison()]
    while parser.peek().kind is not Kind.END:
        if parser.keyword("AND"):
            comparisons.append(parser.comparison())
            continue
        token = parser.peek()
        if token.kind is Kind.KEYWORD and token.value == "OR":
            fail(
                f"Invalid clause(s) in filter string: '{token.text}'. "
                "Only AND is supported between comparisons."
            )
        fail(
            f"Invalid clause(s) in filter string: '{text[token.pos :]}'. "
            "Comparisons must be joined with AND."
        )
    return comparisons


def parse_order_by(clauses: Sequence[str] | None, target: Target) -> list[OrderKey]:
    """Parse order_by strings such as ``metrics.loss DESC`` (ascending by default)."""
    spec = SPECS[target]
    keys: list[OrderKey] = []
    for clause in clauses or ():
        invalid = f"Invalid order_by clause '{clause}'. Could not be parsed."
        parser = _Parser(clause, f"order_by clause '{clause}'", spec)
        token = parser.next()
        if token.kind is not Kind.KEY:
            fail(invalid)
        key_type, name, _ = resolve_key(token, spec, order=True)
        direction = parser.keyword("ASC", "DESC")
        trailing = parser.next()
        if direction is None and trailing.kind is Kind.KEY and parser.peek().kind is Kind.END:
            fail(f"Invalid ordering key in order_by clause '{clause}'.")
        if trailing.kind is not Kind.END:
            fail(invalid)
        ascending = direction != "DESC"
        _append_unique(keys, OrderKey(key_type, name, ascending), clauses or ())
    return keys


def parse_logged_model_order_by(items: Sequence[object] | None) -> list[OrderKey]:
    """Parse logged-model order_by objects: ``{"field_name", "ascending", "dataset_*"}``."""
    spec = SPECS[Target.LOGGED_MODELS]
    keys: list[OrderKey] = []
    for item in items or ():
        if not isinstance(item, Mapping):
            fail("`order_by` must be a list of dictionaries.")
        field_name = item.get("field_name")
        if not isinstance(field_name, str) or not field_name.strip():
            fail("`field_name` in the `order_by` clause must be specified.")
        ascending = item.get("ascending", True)
        if not isinstance(ascending, bool):
            fail(
                "Value of `ascending` in the `order_by` clause must be a boolean, got "
                f"{type(ascending).__name__} for field {field_name}."
            )
        dataset_name, dataset_digest = item.get("dataset_name"), item.get("dataset_digest")
        if not isinstance(dataset_name, str | None) or not isinstance(dataset_digest, str | None):
            fail("`dataset_name` and `dataset_digest` in the `order_by` clause must be strings.")
        if dataset_digest and not dataset_name:
            fail("`dataset_digest` can only be specified if `dataset_name` is also specified.")
        if "." in field_name:
            entity, name = field_name.split(".", 1)
            if PREFIXES.get(entity) is not KeyType.METRIC or not name.strip("`"):
                fail(f"Invalid order by field name: {entity}, only `metrics.<name>` is allowed.")
            key = OrderKey(
                KeyType.METRIC,
                name.strip("`"),
                ascending,
                dataset_name or None,
                dataset_digest or None,
            )
        else:
            attribute = spec.order_attributes.get(field_name.strip())
            if attribute is None:
                fail(f"Invalid order by field name: {field_name}.")
            key = OrderKey(KeyType.ATTRIBUTE, attribute.name, ascending)
        _append_unique(keys, key, items or ())
    return keys


def _append_unique(keys: list[OrderKey], key: OrderKey, clauses: Sequence[object]) -> None:
    if any(
        (k.key_type, k.key, k.dataset_name, k.dataset_digest)
        == (key.key_type, key.key, key.dataset_name, key.dataset_digest)
        for k in keys
    ):
        fail(f"`order_by` contains duplicate fields: {list(clauses)}")
    keys.append(key)
