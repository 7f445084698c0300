"""Forms of the questionnaire builder, one module per room:

- ``words``: the words its pages use for types, operators, statuses and the checks' problems;
- ``texts``: the fields a text has in each language the editor shows;
- ``questionnaire``: a questionnaire's code, name, window and targeting (new, copy, settings);
- ``version``: a version's content (texts, dimensions, questions and their options, skip rules, preview).

Here: the buttons every page of the builder has.
"""
from __future__ import annotations

from wtforms import HiddenField
from wtforms.validators import AnyOf

from app.forms.base import LoopdeskForm


class ActionForm(LoopdeskForm):
    """A button that changes one thing (archive, publish, remove, new draft): only the CSRF token."""


class MoveForm(LoopdeskForm):
    direction = HiddenField(validators=[AnyOf(("up", "down"))])
