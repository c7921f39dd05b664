"""The template's CloudFront distribution, served locally: behaviours, viewer-request functions,
custom error responses and the response headers policy, over the HTTP API and the UI bucket."""

from __future__ import annotations

import gzip
import json
import mimetypes
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from local.runtime.delivery import Log

Answer = tuple[int, dict[str, str], bytes, str]
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml",
                 "application/xml")
_HARNESS = Path(__file__).with_name("cloudfront_functions.js")


class Origin(Protocol):
    """What a behaviour forwards to: the HTTP API's gateway."""

    def handle(self, method: str, raw_path: str, header_items: Any, body: bytes,
               source_ip: str) -> Answer: ...


@dataclass(frozen=True)
class Rewrite:
    """A viewer-request function's request, passed on to the origin."""

    path: str
    query: str


@dataclass(frozen=True)
class Behaviour:
    """One cache behaviour: which paths, which origin, what runs and what is added."""

    pattern: re.Pattern[str] | None  # None: the default behaviour
    origin_id: str
    methods: frozenset[str]
    compress: bool
    headers_policy: dict[str, Any] | None
    viewer_request: str | None  # the source of a CloudFront Function


def path_pattern(pattern: str) -> re.Pattern[str]:
    """CloudFront's PathPattern: `*` any characters (slashes too), `?` one, case-sensitive."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                   for c in pattern.lstrip("/"))
    return re.compile(f"/{body}")


class Distribution:
    """Answers requests as the distribution would, from its resolved configuration."""

    def __init__(self, config: dict[str, Any], policies: dict[str, dict[str, Any]],
                 functions: dict[str, str], api_id: str, api: Origin, s3: Any,
                 log: Log) -> None:
        self.config = config
        self.api, self.s3, self.log = api, s3, log
        self.root_object = config.get("DefaultRootObject")
        self.error_pages = {int(e["ErrorCode"]): e for e in config.get("CustomErrorResponses", [])
                            if e.get("ResponsePagePath")}
        self.origins: dict[str, tuple[str, str]] = {}
        for origin in config.get("Origins", []):
            domain = origin["DomainName"]
            if _api_of(domain) == api_id:
                self.origins[origin["Id"]] = ("api", domain)
            elif (bucket := _bucket_of(domain)) is not None:
                self.origins[origin["Id"]] = ("s3", bucket)
            else:
                raise ValueError(f"origin {origin['Id']}: {domain} is neither the HTTP API "
                                 "nor a bucket of this stack")

        def behaviour(spec: dict[str, Any], pattern: str | None) -> Behaviour:
            request_fns = [a["FunctionARN"] for a in spec.get("FunctionAssociations", [])
                           if a.get("EventType") == "viewer-request"]
            return Behaviour(
                pattern=path_pattern(pattern) if pattern is not None else None,
                origin_id=spec["TargetOriginId"],
                methods=frozenset(spec.get("AllowedMethods", ["GET", "HEAD"])),
                compress=bool(spec.get("Compress")),
                headers_policy=policies.get(spec.get("ResponseHeadersPolicyId", "")),
                viewer_request=functions[request_fns[0]] if request_fns else None)

        self.behaviours = [behaviour(b, b["PathPattern"]) for b in config.get("CacheBehaviors", [])]
        self.default = behaviour(config["DefaultCacheBehavior"], None)
        self.functions = FunctionRunner() if any(
            b.viewer_request for b in [*self.behaviours, self.default]) else None

    def close(self) -> None:
        """Stop the function runner, if one started."""
        if self.functions:
            self.functions.close()

    def behaviour_for(self, path: str) -> Behaviour:
        """The first behaviour whose pattern matches, else the default one."""
        return next((b for b in self.behaviours if b.pattern and b.pattern.fullmatch(path)),
                    self.default)

    def handle(self, method: str, raw_path: str, header_items: Any, body: bytes,
               source_ip: str) -> Answer:
        """One viewer request: behaviour, function, origin, error page, headers policy."""
        headers = [(k, v) for k, v in header_items]
        split = urlsplit(raw_path)
        path = split.path or "/"
        behaviour = self.behaviour_for(path)
        if method not in behaviour.methods:
            answer: Answer = (403, {"Content-Type": "text/plain"},
                              b"This distribution is not configured to allow the HTTP request "
                              b"method that was used for this request.", " (cloudfront: method)")
            return self._finish(answer, behaviour, headers, method)
        query = split.query
        if behaviour.viewer_request and self.functions:
            outcome = self.functions.viewer_request(behaviour.viewer_request, method, path,
                                                    query, headers, source_ip)
            if not isinstance(outcome, Rewrite):
                return self._finish(outcome, behaviour, headers, method)
            path, query = outcome.path, outcome.query
        if path == "/" and self.root_object:
            path = f"/{self.root_object}"
        answer = self._origin(behaviour, method, path, query, headers, body, source_ip)
        page = self.error_pages.get(answer[0])
        if page is not None:
            page_answer = self._origin(self.behaviour_for(page["ResponsePagePath"]), "GET",
                                       page["ResponsePagePath"], "", headers, b"", source_ip)
            if page_answer[0] == 200:
                code = int(page.get("ResponseCode") or answer[0])
                answer = (code, page_answer[1], page_answer[2],
                          f"{answer[3]} -> error page {page['ResponsePagePath']}")
        return self._finish(answer, behaviour, headers, method)

    def _origin(self, behaviour: Behaviour, method: str, path: str, query: str,
                headers: list[tuple[str, str]], body: bytes, source_ip: str) -> Answer:
        kind, target = self.origins[behaviour.origin_id]
        raw = f"{path}?{query}" if query else path
        if kind == "api":
            return self.api.handle(method, raw, headers, body, source_ip)
        return self._object(target, path)

    def _object(self, bucket: str, path: str) -> Answer:
        from botocore.exceptions import ClientError

        key = path.lstrip("/")
        try:
            obj = self.s3.get_object(Bucket=bucket, Key=key) if key else None
        except ClientError as e:
            if e.response["Error"]["Code"] not in {"NoSuchKey", "404"}:
                raise
            obj = None
        if obj is None:
            # Through an origin access control without s3:ListBucket, S3 answers a missing key
            # with 403 AccessDenied, not 404.
            return (403, {"Content-Type": "application/xml"},
                    b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
                    b"<Message>Access Denied</Message></Error>", f" (s3 {key or '/'} missing)")
        headers = {"Content-Type": obj.get("ContentType") or "binary/octet-stream",
                   "ETag": obj.get("ETag", ""),
                   "Last-Modified": obj["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT")}
        if obj.get("CacheControl"):
            headers["Cache-Control"] = obj["CacheControl"]
        return 200, headers, obj["Body"].read(), f" (s3 {key})"

    def _finish(self, answer: Answer, behaviour: Behaviour, request_headers: list[tuple[str, str]],
                method: str) -> Answer:
        status, headers, payload, target = answer
        headers = dict(headers)
        accepts = ",".join(v for k, v in request_headers if k.lower() == "accept-encoding")
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if (behaviour.compress and "gzip" in accepts and len(payload) >= 1000
                and content_type.startswith(_COMPRESSIBLE)
                and not any(k.lower() == "content-encoding" for k in headers)):
            payload = gzip.compress(payload, compresslevel=6, mtime=0)
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        if behaviour.headers_policy:
            headers = apply_headers_policy(behaviour.headers_policy, headers)
        headers["Via"] = "1.1 local (CloudFront)"
        return status, headers, payload, target


def apply_headers_policy(policy: dict[str, Any], headers: dict[str, str]) -> dict[str, str]:
    """Add a response headers policy's headers (Override: replace the origin's own)."""
    out = dict(headers)
    present = {k.lower(): k for k in out}

    def put(name: str, value: str, override: bool) -> None:
        existing = present.get(name.lower())
        if existing and not override:
            return
        if existing:
            del out[existing]
        out[name] = value
        present[name.lower()] = name

    security = policy.get("SecurityHeadersConfig", {})
    if csp := security.get("ContentSecurityPolicy"):
        put("Content-Security-Policy", csp["ContentSecurityPolicy"], csp.get("Override", False))
    if cto := security.get("ContentTypeOptions"):
        put("X-Content-Type-Options", "nosniff", cto.get("Override", False))
    if frame := security.get("FrameOptions"):
        put("X-Frame-Options", frame["FrameOption"], frame.get("Override", False))
    if referrer := security.get("ReferrerPolicy"):
        put("Referrer-Policy", referrer["ReferrerPolicy"], referrer.get("Override", False))
    if hsts := security.get("StrictTransportSecurity"):
        value = f"max-age={hsts['AccessControlMaxAgeSec']}"
        value += "; includeSubDomains" if hsts.get("IncludeSubdomains") else ""
        value += "; preload" if hsts.get("Preload") else ""
        put("Strict-Transport-Security", value, hsts.get("Override", False))
    if xss := security.get("XSSProtection"):
        value = "1" if xss.get("Protection") else "0"
        value += "; mode=block" if xss.get("ModeBlock") else ""
        put("X-XSS-Protection", value, xss.get("Override", False))
    for item in policy.get("CustomHeadersConfig", {}).get("Items", []):
        put(item["Header"], item["Value"], item.get("Override", False))
    for item in policy.get("RemoveHeadersConfig", {}).get("Items", []):
        if (existing := present.get(item["Header"].lower())) in out:
            del out[existing]
    return out


class FunctionRunner:
    """CloudFront Functions run by Node.js, one long-lived process, one request at a time."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("the web UI's distribution runs a CloudFront Function, which "
                               "needs Node.js 20 (see README: prerequisites)")
        self._process = subprocess.Popen([node, str(_HARNESS)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, bufsize=1)
        self._lock = threading.Lock()

    def close(self) -> None:
        """End the Node.js process."""
        self._process.terminate()
        self._process.wait(timeout=5)

    def viewer_request(self, code: str, method: str, path: str, query: str,
                       headers: list[tuple[str, str]], source_ip: str) -> Rewrite | Answer:
        """The request the function lets through, or the response it generated."""
        querystring: dict[str, Any] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            querystring.setdefault(key, {"value": value, "multiValue": []})[
                "multiValue"].append({"value": value})
        event = {"version": "1.0", "context": {"eventType": "viewer-request"},
                 "viewer": {"ip": source_ip},
                 "request": {"method": method, "uri": path, "querystring": querystring,
                             "headers": {k.lower(): {"value": v} for k, v in headers},
                             "cookies": {}}}
        with self._lock:
            assert self._process.stdin and self._process.stdout
            self._process.stdin.write(json.dumps({"code": code, "event": event}) + "\n")
            self._process.stdin.flush()
            answer = json.loads(self._process.stdout.readline())
        if "error" in answer:
            return (503, {"Content-Type": "text/plain"},
                    b"The CloudFront function associated with this request failed.",
                    f" (cloudfront function error: {answer['error']})")
        result = answer["result"]
        if "statusCode" in result:
            out_headers = {k: v["value"] for k, v in result.get("headers", {}).items()}
            body = result.get("body", "")
            data = body.get("data", "") if isinstance(body, dict) else body
            return int(result["statusCode"]), out_headers, data.encode(), " (cloudfront function)"
        pairs = [(k, v.get("value", "")) for k, v in result.get("querystring", {}).items()]
        return Rewrite(quote(result["uri"], safe="/%:@!$&'()*+,;=-._~"), urlencode(pairs))


def _api_of(domain: str) -> str | None:
    match = re.fullmatch(r"([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com", domain)
    return match.group(1) if match else None


def _bucket_of(domain: str) -> str | None:
    match = re.fullmatch(r"(.+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com", domain)
    return match.group(1) if match else None


def publish(s3: Any, bucket: str, folder: Path) -> int:
    """Upload a built UI as the deploy does: index.html never cached, hashed assets for a year."""
    count = 0
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        key = file.relative_to(folder).as_posix()
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type == "application/javascript":
            content_type += "; charset=utf-8"
        cache = "public, max-age=31536000, immutable" if key.startswith("assets/") \
            else "no-cache"
        s3.put_object(Bucket=bucket, Key=key, Body=file.read_bytes(), ContentType=content_type,
                      CacheControl=cache)
        count += 1
    return count


def content_folders(resources: dict[str, dict[str, Any]], root: Path) -> dict[str, Path]:
    """Buckets whose content is a folder of this repository (`Metadata: {Content: folder}`)."""
    return {lid: root / r["Metadata"]["Content"] for lid, r in resources.items()
            if r.get("Type") == "AWS::S3::Bucket" and r.get("Metadata", {}).get("Content")}


def local_bucket_origins(policy: dict[str, Any], buckets: dict[str, str]) -> dict[str, Any]:
    """The policy with each bucket's AWS origin in its CSP replaced by where the browser reaches
    that bucket here (`buckets`: AWS origin -> local origin); nothing else changes."""
    csp = policy.get("SecurityHeadersConfig", {}).get("ContentSecurityPolicy")
    if not csp:
        return policy
    value = re.sub(r"[^\s;]+", lambda m: buckets.get(m.group(0), m.group(0)),
                   csp["ContentSecurityPolicy"])
    security = {**policy["SecurityHeadersConfig"],
                "ContentSecurityPolicy": {**csp, "ContentSecurityPolicy": value}}
    return {**policy, "SecurityHeadersConfig": security}


def build_distributions(cdn: dict[str, tuple[str, dict[str, Any], str]], api_id: str,
                        api: Origin, s3: Any, log: Log,
                        buckets: dict[str, str] | None = None) -> list[Distribution]:
    """Every distribution of the template, with its policies and functions looked up by id."""
    policies = {ref: local_bucket_origins(props["ResponseHeadersPolicyConfig"], buckets or {})
                for kind, props, ref in cdn.values()
                if kind == "AWS::CloudFront::ResponseHeadersPolicy"}
    functions = {ref: props["FunctionCode"] for kind, props, ref in cdn.values()
                 if kind == "AWS::CloudFront::Function"}
    return [Distribution(props["DistributionConfig"], policies, functions, api_id, api, s3,
                         log)
            for kind, props, _ in cdn.values() if kind == "AWS::CloudFront::Distribution"]
