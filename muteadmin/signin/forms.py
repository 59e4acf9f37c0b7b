"""The sign-in form: allauth's, with its login field named `username` as scripts post it."""

from allauth.account.forms import LoginForm


class SignInForm(LoginForm):
    """allauth's LoginForm taking `username` and `password`, the sign-in page's long-standing
    field names (scripts and tests post them)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.pop("login")
        field.widget.attrs.pop("placeholder", None)
        self.fields = {"username": field, **self.fields}

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip()

    def clean(self):
        # allauth reads the name typed as `login`.
        if "username" in self.cleaned_data:
            self.cleaned_data["login"] = self.cleaned_data["username"]
        return super().clean()
