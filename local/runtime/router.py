"""The HTTP API: routes and Lambda authorizer from the translated template, payload format 2.0."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.http_server import LocalHTTPServer
from local.runtime import limits
from local.runtime.delivery import Dispatcher, Log
from local.runtime.workers import Invocation

_FUNCTION_IN_URI = re.compile(r"functions/(arn:[^/]+)/invocations")
_TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded",
               "application/xml", "application/javascript")
# API Gateway's HTTP API payload limit: a larger body is refused with 413 before any routing.
MAX_BODY_BYTES = 10 * 1024 * 1024
# What API Gateway answers itself, body `{"message": ...}`.
_GATEWAY_MESSAGES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                     413: "Request Entity Too Large", 429: "Too Many Requests",
                     500: "Internal Server Error", 502: "Internal Server Error",
                     503: "Service Unavailable"}
# The API's ARN as its Lambda permissions name it (the local API's id is `localapi`).
_EXECUTE_API = "arn:aws:execute-api:us-east-1:123456789012:localapi"


@dataclass(frozen=True)
class Route:
    """One route of the HTTP API."""

    method: str
    path: str
    function_arn: str
    authorizer: str | None

    @property
    def key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters when this route serves `method path`, else None."""
        if self.path == "$default" or self.method not in {"ANY", method}:
            return None
        wanted, got = self.path.strip("/").split("/"), path.strip("/").split("/")
        params: dict[str, str] = {}
        for i, segment in enumerate(wanted):
            if segment.startswith("{") and segment.endswith("+}"):
                rest = got[i:]
                if not rest or rest == [""]:
                    return None
                params[segment[1:-2]] = "/".join(rest)
                return params
            if i >= len(got):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                if not got[i]:
                    return None
                params[segment[1:-1]] = got[i]
            elif segment != got[i]:
                return None
        return params if len(got) == len(wanted) else None

    def priority(self) -> tuple[int, int, int]:
        """API Gateway prefers exact paths, then fewer/later variables, then a named method."""
        segments = self.path.strip("/").split("/")
        literals = sum(not s.startswith("{") for s in segments)
        greedy = any(s.endswith("+}") for s in segments)
        return (0 if greedy else 1, literals, 1 if self.method != "ANY" else 0)


@dataclass(frozen=True)
class Authorizer:
    """A Lambda REQUEST authorizer with payload 2.0 simple responses."""

    name: str
    function_arn: str
    simple_responses: bool
    identity_sources: tuple[str, ...] = ()

    def identity(self, event: dict[str, Any]) -> list[str] | None:
        """The identity source values of a request, or None when one is missing or empty.

        API Gateway answers such a request with 401 and never calls the authorizer.
        """
        values = []
        for source in self.identity_sources:
            value = _identity_value(source, event)
            if not value:
                return None
            values.append(value)
        return values


def _identity_value(source: str, event: dict[str, Any]) -> str | None:
    kind, _, name = source.removeprefix("$").partition(".")
    if kind == "request":
        where, _, key = name.partition(".")
        if where == "header":
            return (event.get("headers") or {}).get(key.lower())
        if where == "querystring":
            return (event.get("queryStringParameters") or {}).get(key)
    elif kind == "context":
        value: Any = event.get("requestContext") or {}
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return None if value is None else str(value)
    elif kind == "stageVariables":
        return (event.get("stageVariables") or {}).get(name)
    raise ValueError(f"unsupported identity source: {source}")


@dataclass(frozen=True)
class Throttle:
    """A stage's route throttling: `rate` requests per second, bursts of up to `burst`."""

    rate: float
    burst: int


class TokenBucket:
    """API Gateway's throttling algorithm: a bucket of `burst` tokens refilled at `rate`/s."""

    def __init__(self, throttle: Throttle, clock: Any = time.monotonic) -> None:
        self.throttle = throttle
        self.clock = clock
        self.tokens = float(throttle.burst)
        self.at = clock()
        self.lock = threading.Lock()

    def take(self) -> bool:
        """Whether a request may pass now (taking a token if so)."""
        with self.lock:
            now = self.clock()
            self.tokens = min(float(self.throttle.burst),
                              self.tokens + (now - self.at) * self.throttle.rate)
            self.at = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


class HttpApi:
    """Routes, authorizers and CORS from the translated `AWS::ApiGatewayV2::Api` body, and
    throttling from its `AWS::ApiGatewayV2::Stage` properties."""

    def __init__(self, body: dict[str, Any], stage: dict[str, Any] | None = None) -> None:
        schemes = body.get("components", {}).get("securitySchemes", {})
        self.authorizers = {
            name: _authorizer(name, s["x-amazon-apigateway-authorizer"])
            for name, s in schemes.items() if "x-amazon-apigateway-authorizer" in s}
        self.routes: list[Route] = []
        for path, operations in body.get("paths", {}).items():
            for method, operation in operations.items():
                integration = operation.get("x-amazon-apigateway-integration")
                if not integration:
                    continue
                security = [name for req in operation.get("security", []) for name in req]
                authorizer = next((s for s in security if s in self.authorizers), None)
                verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                self.routes.append(Route(verb, path, _function_arn(integration["uri"]),
                                         authorizer))
        self.cors = body.get("x-amazon-apigateway-cors")
        stage = stage or {}
        self.default_throttle = _throttle(stage.get("DefaultRouteSettings"))
        self.route_throttles = {key: t for key, settings in (stage.get("RouteSettings") or {})
                                .items() if (t := _throttle(settings))}

    def throttle(self, route: Route) -> Throttle | None:
        """The throttling that applies to `route` (its own settings, else the stage default)."""
        return self.route_throttles.get(route.key, self.default_throttle)

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route API Gateway would select, with its path parameters."""
        found = [(r, p) for r in self.routes if (p := r.match(method, path)) is not None]
        if found:
            return max(found, key=lambda rp: rp[0].priority())
        default = next((r for r in self.routes if r.path == "$default"), None)
        return (default, {}) if default else None


def _authorizer(name: str, spec: dict[str, Any]) -> Authorizer:
    sources = spec.get("identitySource") or []
    if isinstance(sources, str):  # the CLI/API also take one comma-separated string
        sources = [s.strip() for s in sources.split(",") if s.strip()]
    return Authorizer(name, _function_arn(spec["authorizerUri"]),
                      bool(spec.get("enableSimpleResponses")), tuple(sources))


def _throttle(settings: dict[str, Any] | None) -> Throttle | None:
    settings = settings or {}
    rate, burst = settings.get("ThrottlingRateLimit"), settings.get("ThrottlingBurstLimit")
    if rate is None and burst is None:
        return None
    return Throttle(rate=float(rate if rate is not None else burst),
                    burst=int(burst if burst is not None else rate))


def _function_arn(uri: str) -> str:
    match = _FUNCTION_IN_URI.search(uri)
    if not match:
        raise ValueError(f"not a Lambda integration: {uri}")
    return match.group(1)


class Gateway:
    """Serves an `HttpApi` over HTTP, invoking functions through the dispatcher."""

    def __init__(self, api: HttpApi, dispatcher: Dispatcher, log: Log) -> None:
        self.api = api
        self.dispatcher = dispatcher
        self.log = log
        self._buckets: dict[str, TokenBucket] = {}
        self._buckets_lock = threading.Lock()
        self.integration_timeout = limits.INTEGRATION_TIMEOUT_SECONDS
        self._long_calls: ThreadPoolExecutor | None = None

    def serve(self, host: str, port: int, front: Any = None) -> ThreadingHTTPServer:
        """A started-on-demand HTTP server bound to host:port; `front` (a CloudFront
        distribution of the template, when it has one) takes each request before the API."""
        gateway = self
        first = front or self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in one write: separate small writes meet the client's
            # delayed ACK and cost ~40 ms per request.
            wbufsize = 64 * 1024
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                started = time.perf_counter()
                length = int(self.headers.get("content-length") or 0)
                if length > MAX_BODY_BYTES:
                    self._drain(length)
                    status, headers, payload = _gateway_error(413, uuid.uuid4().hex[:20], {})
                    target = " (payload limit)"
                else:
                    body = self.rfile.read(length) if length else b""
                    status, headers, payload, target = first.handle(
                        self.command, self.path, self.headers.items(), body,
                        self.client_address[0])
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
                gateway.log(f"{self.command} {self.path} {status} "
                            f"{(time.perf_counter() - started) * 1000:.0f}ms{target}")

            def _drain(self, length: int) -> None:
                # Read and dropped: a client still sending would see a reset instead of the 413.
                while length > 0:
                    chunk = self.rfile.read(min(length, 1 << 20))
                    if not chunk:
                        self.close_connection = True
                        return
                    length -= len(chunk)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

            def __getattr__(self, name: str) -> Any:
                # Any other method (TRACE, QUERY, ...) is routed like these, to an ANY route
                # or $default if one matches, as API Gateway routes by method; http.server
                # would answer 501 itself.
                if name.startswith("do_"):
                    return self._handle
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # one line per request is logged by _handle

        return LocalHTTPServer((host, port), Handler)

    def handle(self, method: str, raw_path: str, header_items: Any, body: bytes,
               source_ip: str) -> tuple[int, dict[str, str], bytes, str]:
        """Answer one request as API Gateway would: status, headers, body, and what ran it."""
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in header_items:
            name = name.lower()
            if name == "cookie":
                cookies.extend(c.strip() for c in value.split(";") if c.strip())
            else:
                headers[name] = f"{headers[name]},{value}" if name in headers else value
        request_id = uuid.uuid4().hex[:20]
        cors = self._cors_headers(headers)
        if method == "OPTIONS" and self.api.cors and "access-control-request-method" in headers:
            return 204, {**cors, "Apigw-Requestid": request_id}, b"", " (CORS preflight)"
        split = urlsplit(raw_path)
        found = self.api.find(method, split.path)
        if found is None:
            return (*_gateway_error(404, request_id, cors), " (no route)")
        route, path_params = found
        if not self._admit(route):
            return (*_gateway_error(429, request_id, cors), " (throttled)")
        event = _event(route, method, split.path, split.query, headers, cookies, body,
                       path_params, source_ip, request_id)
        if route.authorizer:
            refusal = self._authorize(self.api.authorizers[route.authorizer], event)
            if isinstance(refusal, int):
                return (*_gateway_error(refusal, request_id, cors), " (authorizer)")
            event["requestContext"]["authorizer"] = {"lambda": refusal}
        source_arn = f"{_EXECUTE_API}/$default/{method}{split.path}"
        if not self.dispatcher.permits(route.function_arn, "apigateway.amazonaws.com",
                                       source_arn):
            return (*_gateway_error(500, request_id, cors), " (no invoke permission)")
        if limits.payload_size(event) > limits.SYNC_PAYLOAD_BYTES:
            # Lambda refuses a synchronous request over 6 MB; API Gateway answers 413.
            return (*_gateway_error(413, request_id, cors), " (Lambda payload limit)")
        spec = self.dispatcher.provisioned.function_by_arn(route.function_arn)
        result = self._integrate(route.function_arn, event)
        if result is None:
            return (*_gateway_error(503, request_id, cors),
                    f" -> {spec.logical_id} integration timeout")
        target = f" -> {spec.logical_id}{' (cold)' if result.cold else ''}"
        if result.error is not None:
            kind = result.error.get("errorType")
            # A response over Lambda's 6 MB limit is a 502, any other function error a 500.
            status = 502 if kind == "Function.ResponseSizeTooLarge" else 500
            return (*_gateway_error(status, request_id, cors), f"{target} error {kind}")
        return (*_http_response(result.payload, request_id, cors), target)

    def _integrate(self, function_arn: str, event: dict[str, Any]) -> Invocation | None:
        """The function's answer, or None when API Gateway stops waiting for it (its 30 s
        integration timeout; the function itself runs on until its own Timeout)."""
        if self.dispatcher.timeout(function_arn) <= self.integration_timeout:
            # The function's own Timeout ends it first: no need for a watch.
            return self.dispatcher.invoke(function_arn, event, source="http", quiet=True)
        with self._buckets_lock:
            if self._long_calls is None:
                self._long_calls = ThreadPoolExecutor(thread_name_prefix="integration")
        call = self._long_calls.submit(self.dispatcher.invoke, function_arn, event,
                                       source="http", quiet=True)
        try:
            return call.result(timeout=self.integration_timeout)
        except TimeoutError:
            return None

    def _admit(self, route: Route) -> bool:
        throttle = self.api.throttle(route)
        if throttle is None:
            return True
        with self._buckets_lock:
            bucket = self._buckets.get(route.key)
            if bucket is None:
                bucket = self._buckets[route.key] = TokenBucket(throttle)
        return bucket.take()

    def _authorize(self, authorizer: Authorizer, event: dict[str, Any]) -> dict[str, Any] | int:
        identity = authorizer.identity(event)
        if identity is None:
            return 401
        auth_event = {**{k: v for k, v in event.items() if k not in {"body", "isBase64Encoded"}},
                      "type": "REQUEST", "identitySource": identity,
                      "routeArn": f"arn:aws:execute-api:us-east-1:123456789012:localapi/$default/"
                                  f"{event['requestContext']['http']['method']}{event['rawPath']}"}
        if not self.dispatcher.permits(authorizer.function_arn, "apigateway.amazonaws.com",
                                       f"{_EXECUTE_API}/authorizers/{authorizer.name}"):
            return 500
        result = self.dispatcher.invoke(authorizer.function_arn, auth_event, source="authorizer",
                                        quiet=True)
        if result.error is not None:
            return 500
        payload = result.payload or {}
        if authorizer.simple_responses:
            return payload.get("context") or {} if payload.get("isAuthorized") is True else 403
        statement = (payload.get("policyDocument") or {}).get("Statement") or [{}]
        return payload.get("context") or {} if statement[0].get("Effect") == "Allow" else 403

    def _cors_headers(self, headers: dict[str, str]) -> dict[str, str]:
        cors = self.api.cors
        origin = headers.get("origin")
        if not cors or not origin:
            return {}
        allowed = cors.get("allowOrigins", [])
        if "*" not in allowed and origin not in allowed:
            return {}
        out = {"Access-Control-Allow-Origin": "*" if "*" in allowed else origin}
        if cors.get("allowMethods"):
            out["Access-Control-Allow-Methods"] = ",".join(cors["allowMethods"])
        if cors.get("allowHeaders"):
            out["Access-Control-Allow-Headers"] = ",".join(cors["allowHeaders"])
        if cors.get("exposeHeaders"):
            out["Access-Control-Expose-Headers"] = ",".join(cors["exposeHeaders"])
        if cors.get("maxAge") is not None:
            out["Access-Control-Max-Age"] = str(cors["maxAge"])
        return out


def _event(route: Route, method: str, path: str, query: str, headers: dict[str, str],
           cookies: list[str], body: bytes, path_params: dict[str, str], source_ip: str,
           request_id: str) -> dict[str, Any]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    content_type = headers.get("content-type", "")
    is_text = not body or content_type.startswith(_TEXT_TYPES)
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": route.key, "rawPath": path, "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "localapi", "domainName": headers.get("host", ""),
            "domainPrefix": "localapi", "requestId": request_id, "routeKey": route.key,
            "stage": "$default", "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000",
                                                       time.gmtime(now)),
            "timeEpoch": int(now * 1000),
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": source_ip, "userAgent": headers.get("user-agent", "")}},
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if params:
        event["queryStringParameters"] = params
    if path_params:
        event["pathParameters"] = path_params
    if body:
        event["body"] = body.decode("utf-8", "replace") if is_text else \
            base64.b64encode(body).decode()
    return event


def _http_response(payload: Any, request_id: str,
                   cors: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    if not (isinstance(payload, dict) and "statusCode" in payload):
        # Payload 2.0: a result without statusCode is a 200 JSON body.
        return 200, {"Content-Type": "application/json", "Apigw-Requestid": request_id, **cors}, \
            json.dumps(payload).encode()
    headers = {k: str(v) for k, v in (payload.get("headers") or {}).items()}
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        headers[name] = ",".join(str(v) for v in values)
    headers.setdefault("Content-Type", "application/json")
    headers.update({"Apigw-Requestid": request_id, **cors})
    body = payload.get("body") or ""
    raw = base64.b64decode(body) if payload.get("isBase64Encoded") else str(body).encode()
    return int(payload["statusCode"]), headers, raw


def _gateway_error(status: int, request_id: str,
                   cors: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json", "Apigw-Requestid": request_id, **cors}
    return status, headers, json.dumps({"message": _GATEWAY_MESSAGES[status]}).encode()

