"""One call from a path to a checked, typed Spec: load -> validate -> build.

``validate=False`` skips the JSON Schema (and with it the jsonschema import);
the hot path uses that, relying on the builder's own type checks.
"""

from __future__ import annotations

from ocitool.errors import ValidationError
from ocitool.spec.build import build_spec
from ocitool.spec.load import Document, load
from ocitool.spec.model import Spec


def validate_document(doc: Document) -> None:
    """Run the schema over ``doc``; raise ValidationError carrying every error diagnostic."""
    from ocitool.spec.schema import validate_config  # lazy: pulls in jsonschema

    diags = validate_config(doc)
    errors = [d for d in diags if d.severity == "error"]
    if errors:
        first = errors[0]
        raise ValidationError(
            message=f"{len(errors)} schema error(s): {first.message}"
            if len(errors) > 1
            else first.message,
            code=first.code,
            pointer=first.pointer,
            path=first.path or doc.path,
            line=first.line,
            column=first.column,
            hint=first.hint,
            diagnostics=errors,
        )


def build_document(doc: Document, *, validate: bool = True) -> Spec:
    """Validate (optionally) and build an already loaded document."""
    if validate:
        validate_document(doc)
    return build_spec(doc)


def load_spec(target: str, *, validate: bool = True) -> tuple[Document, Spec]:
    """Load ``target`` (bundle dir, config file or ``-``) into a Document and a Spec."""
    doc = load(target)
    return doc, build_document(doc, validate=validate)
