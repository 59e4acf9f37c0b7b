"""`manage.py tim_emulator --port N`: serve the sandbox emulator over HTTP(S) for other clients."""

import ssl
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from muteadmin.sandbox.credentials import emulator_expected_credentials
from muteadmin.sandbox.server import EmulatorServer, emulator_server

DEFAULT_HOST = "127.0.0.1"
# How often the serving loop looks for a shutdown request from another thread.
POLL_SECONDS = 0.1


class Command(BaseCommand):
    help = (
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
        parser.add_argument("--port", type=int, required=True, help="TCP port (0: any free one).")
        parser.add_argument("--host", default=DEFAULT_HOST, help="Address to listen on.")
        parser.add_argument("--certfile", help="PEM certificate (chain) to serve HTTPS with.")
        parser.add_argument("--keyfile", help="PEM private key of --certfile.")

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
            raise CommandError("--keyfile needs --certfile.")
        self.server = self._listen(host=host, port=port, certfile=certfile, keyfile=keyfile)
        key_source = (
            "the sandbox key derived from SECRET_KEY"
            if settings.TIM_SDKAPPID is None
            else "TIM_SECRET_KEY"
        )
        base_url = self.server.base_url
        self.stdout.write(f"Tencent Chat REST emulator listening on {base_url}")
        self.stdout.write(
            f"Expecting SDKAppID {credentials.sdkappid} and admin identifier "
            f"{credentials.identifier!r}, UserSigs signed with {key_source}."
        )
        self.stdout.write(f"Point clients at it with TIM_API_BASE_URL={base_url}")
        self.stdout.write("Quit with CONTROL-C.")
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
            raise CommandError(f"Cannot use {certfile} and its key for HTTPS: {exc}") from exc
        except FileNotFoundError as exc:
            raise CommandError(f"Cannot read {exc.filename}: {exc.strerror}") from exc
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror}") from exc
