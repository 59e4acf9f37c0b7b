"""`manage.py tim_emulator --port N`: serve the sandbox emulator over HTTP(S) for other clients."""

import ssl
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from muteadmin.sandbox.credentials import emulator_expected_credentials
from muteadmin.sandbox.server import EmulatorServer, emulator_server

DEFAULT_HOST = "127.0.0.1"
# How often the serving loop looks for a shutdown request from another thread.
POLL_SECONDS = 0.1


class Command(BaseCommand):
    @property
    def help(self) -> str:
        return gettext(
            "Serve the sandbox emulator of Tencent's global-mute REST API over HTTP (HTTPS with "
            "--certfile and --keyfile), checking UserSigs against TIM_SDKAPPID/TIM_SECRET_KEY/"
            "TIM_ADMIN_IDENTIFIER (or the sandbox app)."
        )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Whoever runs the command in a thread stops it with `server.shutdown()` once `serving`
        # is set.
        self.server: EmulatorServer | None = None
        self.serving = threading.Event()

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--port", type=int, required=True, help=gettext("TCP port (0: any free one).")
        )
        parser.add_argument("--host", default=DEFAULT_HOST, help=gettext("Address to listen on."))
        parser.add_argument(
            "--certfile", help=gettext("PEM certificate (chain) to serve HTTPS with.")
        )
        parser.add_argument("--keyfile", help=gettext("PEM private key of --certfile."))

    def handle(
        self,
        *args,
        host: str,
        port: int,
        certfile: str | None,
        keyfile: str | None,
        **options,
    ) -> None:
        try:
            credentials = emulator_expected_credentials()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        if keyfile is not None and certfile is None:
            raise CommandError(gettext("--keyfile needs --certfile."))
        self.server = self._listen(host=host, port=port, certfile=certfile, keyfile=keyfile)
        key_source = (
            gettext("the sandbox key derived from SECRET_KEY")
            if settings.TIM_SDKAPPID is None
            else "TIM_SECRET_KEY"
        )
        base_url = self.server.base_url
        self.stdout.write(
            gettext("Tencent Chat REST emulator listening on %(url)s") % {"url": base_url}
        )
        self.stdout.write(
            gettext(
                "Expecting SDKAppID %(sdkappid)s and admin identifier %(identifier)s, "
                "UserSigs signed with %(key)s."
            )
            % {
                "sdkappid": credentials.sdkappid,
                "identifier": repr(credentials.identifier),
                "key": key_source,
            }
        )
        self.stdout.write(
            gettext("Point clients at it with TIM_API_BASE_URL=%(url)s") % {"url": base_url}
        )
        self.stdout.write(gettext("Quit with CONTROL-C."))
        self.serving.set()
        try:
            self.server.serve_forever(poll_interval=POLL_SECONDS)
        except KeyboardInterrupt:
            pass
        finally:
            self.server.server_close()

    def _listen(
        self, *, host: str, port: int, certfile: str | None, keyfile: str | None
    ) -> EmulatorServer:
        try:
            return emulator_server(host=host, port=port, certfile=certfile, keyfile=keyfile)
        except ssl.SSLError as exc:
            raise CommandError(
                gettext("Cannot use %(certfile)s and its key for HTTPS: %(error)s")
                % {"certfile": certfile, "error": exc}
            ) from exc
        except FileNotFoundError as exc:
            raise CommandError(
                gettext("Cannot read %(file)s: %(error)s")
                % {"file": exc.filename, "error": exc.strerror}
            ) from exc
        except OSError as exc:
            raise CommandError(
                gettext("Cannot listen on %(host)s:%(port)s: %(error)s")
                % {"host": host, "port": port, "error": exc.strerror}
            ) from exc
