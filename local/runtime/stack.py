"""The whole stack on one machine: moto, the template's resources, workers, router, emulator."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
EMULATOR_TOKEN = "patLOCALDEV00000000.local"

# Variables a worker keeps from the runtime's own environment; everything else is Lambda's.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "VIRTUAL_ENV", "TMPDIR", "SYSTEMROOT")


@dataclass
class Options:
    """How to start the stack."""

    port: int | None = 3000
    host: str = "127.0.0.1"
    database_url: str | None = None
    admin_emails: str = ""
    # `make dev`'s defaults (a deployment's are invite and admins): anyone may register, and
    # every workspace gets the deployment's Airtable token, so the demo base is there at once.
    registration: str = "open"
    default_connection: str = "every_workspace"
    auth_ip_limit_per_minute: int = 30
    # Where every sent email is also written as an .eml file (None: a temporary folder).
    mail_dir: Path | None = None
    airtable_rate_limit: int | None = 5
    # How long the emulator refuses a base after a 429, and the functions wait it out: Airtable's
    # 30 s; the suite's stack shortens both alike (tests/e2e/conftest.py).
    airtable_lockout_seconds: float = 30.0
    airtable_persist: Path | None = None
    # A real token (AIRTABLE_TOKEN) replaces the emulator; the endpoint can point elsewhere.
    airtable_token: str | None = None
    airtable_endpoint: str = "https://api.airtable.com"
    worker_log: Path | None = None
    prewarm: bool = True
    sqs_retry_seconds: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    # Template parameters over the ones above (e.g. the bench lifts the stage's throttling).
    parameters: dict[str, str] = field(default_factory=dict)
    function_env: dict[str, dict[str, str]] = field(default_factory=dict)
    quiet: bool = False
    # Another template than the project's (a test's copy with one permission less); its code
    # paths are taken relative to it.
    template: Path | None = None


_running = False


def _release() -> None:
    global _running
    _running = False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalStack:
    """Start with `start()`, stop with `stop()`; attributes expose every part to tests."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self._stoppers: list[Any] = []
        self.url = ""
        self.started_in = 0.0

    def log(self, line: str) -> None:
        """One line on stdout, timestamped."""
        if not self.options.quiet:
            print(f"{datetime.now().strftime('%H:%M:%S')} {line}", flush=True)

    # ------------------------------------------------------------------ start
    def start(self) -> LocalStack:
        # moto keeps its state in module globals and the runtime patches moto's classes, so
        # two stacks in one process would share (and fight over) both.
        global _running
        if _running:
            raise RuntimeError("a LocalStack is already running in this process")
        _running = True
        self._stoppers.append(_release)
        started = time.perf_counter()
        if self.options.prewarm:
            # The workers' fork server imports its packages in a process of its own, on the
            # other core, while moto starts and the template is provisioned.
            from local.runtime.workers import start_fork_server

            threading.Thread(target=start_fork_server, daemon=True).start()
        try:
            self._prepare_mail()
            self._start_moto()
            self._start_airtable()
            self._prepare_database()
            self._provision()
            self._start_workers()
            self._start_deliveries()
            # The port opens once the workers are warm: a client either cannot connect yet or
            # is answered at warm speed.
            self._await_prewarm()
            if self.options.port is not None:
                self._start_gateway()
        except BaseException:
            self.stop()
            raise
        self.started_in = time.perf_counter() - started
        return self

    def _start_moto(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        port = _free_port()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.moto.start()
        self._stoppers.append(self.moto.stop)
        from local.runtime.s3_cors import install_moto_preflight

        self._stoppers.append(install_moto_preflight())
        self.moto_url = f"http://127.0.0.1:{port}"
        self.aws_env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION,
                        "AWS_REGION": REGION, "AWS_ENDPOINT_URL": self.moto_url,
                        "MOTO_PORT": str(port)}
        # moto's Step Functions interpreter calls Lambda through MOTO_PORT, in this process.
        os.environ.update(self.aws_env)
        import requests

        # moto keeps its accounts in this process: a stack started after another one (a test's
        # own stack, then the suite's) starts on a fresh account, as a new deployment would.
        requests.post(f"{self.moto_url}/moto-api/reset", timeout=10).raise_for_status()
        requests.post(f"{self.moto_url}/moto-api/config", timeout=10,
                      json={"stepfunctions": {"execute_state_machine": True}}).raise_for_status()
        import boto3

        session = boto3.session.Session(region_name=REGION)
        clients: dict[str, Any] = {}
        made = threading.Lock()

        def client(service: str) -> Any:
            # One client per service (a client is thread-safe, a session is not): provisioning
            # alone asked for 89 and spent 1.9 s building them.
            with made:
                if service not in clients:
                    clients[service] = session.client(service, endpoint_url=self.moto_url)
                return clients[service]

        self.client = client

    def _start_airtable(self) -> None:
        self.airtable = None
        if self.options.airtable_token:
            self.airtable_url, self.airtable_token = (self.options.airtable_endpoint,
                                                      self.options.airtable_token)
            self.demo_base_id = None
            return
        from local.airtable_emulator import AirtableEmulator

        self.airtable = AirtableEmulator(
            tokens={EMULATOR_TOKEN: "usrLOCALDEV000001"},
            rate_limit=self.options.airtable_rate_limit,
            lockout_seconds=self.options.airtable_lockout_seconds,
            persist_path=self.options.airtable_persist).start()
        self._stoppers.append(self.airtable.stop)
        self.demo_base_id = self.airtable.seed_demo()
        self.airtable_url, self.airtable_token = self.airtable.url, EMULATOR_TOKEN

    def _prepare_mail(self) -> None:
        if self.options.mail_dir is not None:
            self.mail_dir = self.options.mail_dir
        else:
            self.mail_dir = Path(tempfile.mkdtemp(prefix="pyairtable-mail-"))
            self._stoppers.append(lambda: shutil.rmtree(self.mail_dir, ignore_errors=True))
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        # Links in emails point at the web UI, which this stack's router serves.
        self.port = _free_port() if self.options.port == 0 else self.options.port
        self.web_url = f"http://{self.options.host}:{self.port or 3000}"

    def _prepare_database(self) -> None:
        from common.core.migrate import upgrade

        url = self.options.database_url
        if not url:
            (ROOT / ".local").mkdir(exist_ok=True)
            url = f"sqlite:///{ROOT / '.local' / 'dev.db'}"
        self.database_url = url
        upgrade(url)

    def _provision(self) -> None:
        from local.runtime.provision import Provisioner
        from local.runtime.template import load_stack

        secrets = self.client("secretsmanager")
        db_arn = secrets.create_secret(Name="pyairtable/local/database",
                                       SecretString=json.dumps({"url": self.database_url}))["ARN"]
        token = json.dumps({"token": self.airtable_token})
        token_arn = secrets.create_secret(Name="pyairtable/local/airtable",
                                          SecretString=token)["ARN"]
        parameters = {"DatabaseSecretArn": db_arn, "AirtableTokenSecretArn": token_arn,
                      "AdminEmails": self.options.admin_emails,
                      "Registration": self.options.registration,
                      "DefaultConnection": self.options.default_connection,
                      "AuthIpLimitPerMinute": str(self.options.auth_ip_limit_per_minute),
                      "CreateMailIdentity": "true", "WebUrl": self.web_url,
                      # Local PostgreSQL listens without TLS.
                      "DatabaseTls": "off",
                      **self.options.parameters}
        stack = load_stack(self.options.template or ROOT / "template.yaml", "pyairtable",
                           parameters, REGION, "123456789012")
        self.stack = stack
        self.provisioned = Provisioner(stack, self.client).run()

    def _worker_env(self, spec: Any) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k in _INHERITED}
        env.update(self.aws_env)
        env.update(spec.environment)
        env.update({
            "AWS_LAMBDA_FUNCTION_NAME": spec.name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "_HANDLER": spec.handler, "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "AIRTABLE_ENDPOINT_URL": self.airtable_url, "ALLOW_PRIVATE_WEBHOOKS": "true",
            "AIRTABLE_LOCKOUT_SECONDS": str(self.options.airtable_lockout_seconds),
            # Webhooks and http_request steps may call http:// receivers on this machine.
            "OUTBOUND_HTTPS_ONLY": "false",
            "POWERTOOLS_TRACE_DISABLED": "true",
            # EMF lines are printed, as in Lambda: the usage aggregator reads them from the logs.
            "POWERTOOLS_METRICS_DISABLED": "false",
            "MAIL_DIR": str(self.mail_dir),
            # Onboarding puts each new user's sample table in the emulator's demo base.
            "ONBOARDING_SAMPLE_BASE_ID": self.demo_base_id or "",
            "PYTHONDONTWRITEBYTECODE": "1", "LOCAL_RUNTIME": "1"})
        if spec.secrets_extension:
            env.update(self._secrets_extension_env(spec))
        env.update(self.options.extra_env)
        env.update(self.options.function_env.get(spec.logical_id, {}))
        return env

    def _secrets_extension_env(self, spec: Any) -> dict[str, str]:
        """The variables a function with the Parameters and Secrets extension reads: its port,
        and a session token of its own (by which the extension knows the caller's role)."""
        if getattr(self, "secrets_extension", None) is None:
            from local.runtime.secrets_extension import SecretsExtension

            # The role a function's workers enforce is its pool's (started right after this).
            self.secrets_extension = SecretsExtension(self.client("secretsmanager"),
                                                      lambda name: self.pools[name].role)
            self._stoppers.append(self.secrets_extension.close)
        return {"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(self.secrets_extension.port),
                "AWS_SESSION_TOKEN": self.secrets_extension.session_token(spec.name)}

    def _role(self, spec: Any) -> Any:
        """The function's execution role, which its workers enforce on every AWS call."""
        return self._role_of(spec.role_arn, spec.name, spec.logical_id)

    def _role_of(self, role_arn: str, holder: str, holder_logical_id: str) -> Any:
        """An execution role as enforced for `holder` (a function or a state machine)."""
        from local.runtime.iam.hook import Role
        from local.runtime.iam.policy import Policy

        role = self.provisioned.roles[role_arn]
        return Role(name=role.name, logical_id=role.logical_id, function_name=holder,
                    function_logical_id=holder_logical_id, policy=Policy.of(role.documents),
                    region=REGION, account="123456789012",
                    boundary=Policy.of({"boundary": role.boundary}) if role.boundary else None)

    def _machine_roles(self) -> dict[str, Any]:
        """Each state machine's role (by machine ARN), which its Lambda tasks invoke with."""
        return {machine: self._role_of(role_arn, machine.rsplit(":", 1)[-1],
                                       self.provisioned.roles[role_arn].logical_id
                                       .removesuffix("Role"))
                for machine, role_arn in self.provisioned.machine_roles.items()}

    def _start_workers(self) -> None:
        from local.runtime.workers import FunctionPool

        log = str(self.options.worker_log) if self.options.worker_log else None
        self.pools = {name: FunctionPool(spec, self._worker_env(spec), log_path=log,
                                         role=self._role(spec))
                      for name, spec in self.provisioned.functions.items()}
        self._stoppers.append(lambda: [pool.close() for pool in self.pools.values()])
        # One warm worker per function before the stack says it is ready (as provisioned
        # concurrency would): the first requests, even a burst, never wait for an import.
        self._prewarming = [threading.Thread(target=pool.prewarm, daemon=True)
                            for pool in self.pools.values()] if self.options.prewarm else []
        for thread in self._prewarming:
            thread.start()

    def _await_prewarm(self) -> None:
        for thread in self._prewarming:
            thread.join()

    def _start_deliveries(self) -> None:
        from local.runtime.delivery import Dispatcher, QueuePoller, Scheduler
        from local.runtime.iam.machines import install_task_role_check
        from local.runtime.iam.mappings import mapping_refusal

        self._stoppers.append(install_task_role_check(self._machine_roles()))
        self.dispatcher = Dispatcher(self.provisioned, self.pools, self.log,
                                     sqs=self.client("sqs"))
        self._stoppers.append(self.dispatcher.close)
        self._stoppers.append(self.dispatcher.install_moto_hooks())
        self.scheduler = Scheduler(self.provisioned, self.dispatcher)
        self.scheduler.start()
        self._stoppers.append(self.scheduler.stop)
        for mapping in self.provisioned.queue_mappings:
            # As CreateEventSourceMapping does: a role that cannot poll its queue fails the deploy.
            refusal = mapping_refusal(self.pools[mapping["function"]].role, mapping["queue_url"])
            if refusal is not None:
                raise RuntimeError(f"event source mapping of {mapping['function']}: {refusal}")
        self.pollers = [QueuePoller(m, self.client("sqs"), self.dispatcher,
                                    self.options.sqs_retry_seconds)
                        for m in self.provisioned.queue_mappings]
        for poller in self.pollers:
            poller.start()
            self._stoppers.append(poller.stop)

    def _start_gateway(self) -> None:
        from local.runtime.router import Gateway, HttpApi

        self.gateway = Gateway(HttpApi(self.provisioned.http_api, self.provisioned.http_stage),
                               self.dispatcher, self.log)
        self.server = self.gateway.serve(self.options.host, self.port or 0, self._web_front())
        port = self.server.server_address[1]
        self.url = f"http://{self.options.host}:{port}"
        thread = threading.Thread(target=self.server.serve_forever, name="http", daemon=True)
        thread.start()
        self._stoppers.append(self.server.server_close)
        self._stoppers.append(self.server.shutdown)

    def _web_front(self) -> Any:
        """The template's CloudFront distribution in front of the API, its UI bucket filled
        with the built UI as the deploy fills it (None when the template has none)."""
        from local.runtime.cdn import build_distributions, content_folders, publish

        s3 = self.client("s3")
        for lid, folder in content_folders(self.stack.resources, ROOT).items():
            if folder.is_dir():
                count = publish(s3, self.resource(lid), folder)
                self.log(f"web: {count} files of {folder.relative_to(ROOT)} in {lid}")
            else:
                self.log(f"web: {folder.relative_to(ROOT)} is not built (make dev builds it)")
        api_id = next(self.provisioned.refs[lid] for lid, r in self.stack.resources.items()
                      if r["Type"] == "AWS::ApiGatewayV2::Api")
        # The browser reaches every bucket at moto's endpoint (presigned URLs point there), so
        # the CSP's bucket origins, `https://<bucket>.s3.<region>.amazonaws.com` as the app
        # presigns on AWS, name it instead.
        buckets = {f"https://{b['Name']}.s3.{REGION}.amazonaws.com": self.moto_url
                   for b in s3.list_buckets()["Buckets"]}
        fronts = build_distributions(self.provisioned.cdn, api_id, self.gateway, s3, self.log,
                                     buckets)
        for front in fronts:
            self._stoppers.append(front.close)
        return fronts[0] if fronts else None

    # ------------------------------------------------------------------ use
    def function(self, logical_id: str) -> Any:
        """The provisioned function spec with this logical id."""
        return next(s for s in self.provisioned.functions.values() if s.logical_id == logical_id)

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Invoke a function by logical id, synchronously."""
        return self.dispatcher.invoke(self.function(logical_id).name, event, source="invoke")

    def resource(self, logical_id: str) -> Any:
        """The physical id (Ref) of a resource."""
        return self.provisioned.refs[logical_id]

    def banner(self) -> str:
        """What `make dev` prints once ready."""
        return "\n".join([
            f"PyAirtable local stack ready in {self.started_in:.1f}s",
            f"  API        {self.url}/api/health",
            f"  Docs       {self.url}/api/docs",
            f"  OpenAPI    {self.url}/api/openapi.json",
            f"  Airtable   {self.airtable_url} " + (
                f"(emulator, demo base {self.demo_base_id})" if self.airtable else
                f"(real, token ...{self.airtable_token[-4:]})"),
            f"  AWS        {self.moto_url} (moto)",
            f"  Database   {self.database_url.split('@')[-1]}",
            f"  Mail       {self.mail_dir} (each email sent, as an .eml file)",
            f"  Sign-up    REGISTRATION={self.options.registration}, "
            f"DEFAULT_CONNECTION={self.options.default_connection}",
            f"  Functions  {len(self.pools)} in their own worker processes",
            "Press Ctrl-C to stop."])

    def stop(self) -> None:
        """Stop everything started, newest first; safe to call twice."""
        while self._stoppers:
            stopper = self._stoppers.pop()
            try:
                stopper()
            except Exception as e:  # keep stopping the rest
                print(f"stop: {type(e).__name__}: {e}", file=sys.stderr)
