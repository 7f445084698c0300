from flask_babel import lazy_gettext as _l
from app.forms.base import LoopdeskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(LoopdeskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class SetPasswordForm(LoopdeskForm):
    """The page an invitation or reset link opens; the rules are app.services.people.admin.password_problem."""

    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("The same password again"), validators=[DataRequired(), Length(max=200)])
