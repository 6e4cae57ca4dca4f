"""The console's forms (Flask-WTF): each carries its CSRF token, and each rule that input can
break has a sentence of its own, in the language of the page."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from ivr.console.accounts import MAX_PASSWORD
from ivr.console.languages import NAMES
from ivr.console.roles import LANGUAGES


class LoginForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF has no type hints
    name = StringField(lazy_gettext("Name"), validators=[
        InputRequired(lazy_gettext("Write your name.")),
        Length(max=64, message=lazy_gettext("A name has at most 64 characters."))])
    password = PasswordField(lazy_gettext("Password"), validators=[
        InputRequired(lazy_gettext("Write your password.")),
        Length(max=MAX_PASSWORD, message=lazy_gettext("This password is too long."))])


class PasswordForm(FlaskForm):  # type: ignore[misc]
    current = PasswordField(lazy_gettext("Current password"), validators=[
        InputRequired(lazy_gettext("Write your current password."))])
    new = PasswordField(lazy_gettext("New password"), validators=[
        InputRequired(lazy_gettext("Write the new password."))])
    repeat = PasswordField(lazy_gettext("New password again"), validators=[
        InputRequired(lazy_gettext("Write the new password a second time.")),
        EqualTo("new", lazy_gettext("The two new passwords are not the same."))])


class LanguageForm(FlaskForm):  # type: ignore[misc]
    language = SelectField(lazy_gettext("Language of the console"),
                           choices=[SelectChoice(code, NAMES[code]) for code in LANGUAGES],
                           validate_choice=True)
