"""Create the translated template's resources in moto, in dependency order, with boto3."""

from __future__ import annotations

import io
import json
import secrets
import string
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.runtime.iam.roles import boundary_document, role_documents
from local.runtime.intrinsics import Resolver, dependencies
from local.runtime.template import Stack

ACCOUNT = "123456789012"


@dataclass
class FunctionSpec:
    """What a worker needs to run one function as Lambda would."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    layer_dirs: list[Path]
    environment: dict[str, str]
    timeout: int
    role_arn: str = ""
    # The template attaches the AWS Parameters and Secrets extension's layer: the runtime
    # serves its HTTP endpoint (local/runtime/secrets_extension.py).
    secrets_extension: bool = False


@dataclass
class RoleSpec:
    """An execution role as IAM would hold it: its name and its policy documents."""

    logical_id: str
    name: str
    arn: str
    documents: dict[str, dict[str, Any]]
    boundary: dict[str, Any] | None = None  # its permissions boundary's document


@dataclass
class Provisioned:
    """The resources created, as the runtime's dispatchers need them."""

    functions: dict[str, FunctionSpec] = field(default_factory=dict)  # by function name
    queue_mappings: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    # Asynchronous invocation settings by function name: {"retries": n, "on_failure": queue URL}
    invoke_configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    event_rules: list[dict[str, Any]] = field(default_factory=list)
    http_api: dict[str, Any] = field(default_factory=dict)
    http_stage: dict[str, Any] = field(default_factory=dict)  # its throttling settings
    # CloudFront resources by logical id: (type, resolved properties, physical id)
    cdn: dict[str, tuple[str, dict[str, Any], str]] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, RoleSpec] = field(default_factory=dict)  # by role ARN
    managed_policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # the template's
    machine_roles: dict[str, str] = field(default_factory=dict)  # state machine ARN -> role ARN
    # AWS::Lambda::Permission resources (resolved): who may invoke which function.
    permissions: list[dict[str, Any]] = field(default_factory=list)

    def function_by_arn(self, arn_or_name: str) -> FunctionSpec:
        """The function an ARN (qualified or not) or a name designates."""
        name = arn_or_name.split(":function:")[-1].split(":")[0]
        return self.functions[name]


class Provisioner:
    """Walks the resources once; each type has a small `_create_<type>` method."""

    def __init__(self, stack: Stack, clients: Callable[[str], Any]) -> None:
        self.stack = stack
        self.client = clients
        self.resolver = Resolver(stack.parameters, stack.conditions, stack.mappings)
        self.out = Provisioned(refs=self.resolver.refs)
        self._layers: dict[str, Path] = {}

    def run(self) -> Provisioned:
        """Create everything; unsupported types are skipped (permissions)."""
        for logical_id in self._order():
            resource = self.stack.resources[logical_id]
            condition = resource.get("Condition")
            if condition and not self.resolver.condition(condition):
                continue
            creator = _CREATORS.get(resource["Type"])
            props = self.resolver.resolve(resource.get("Properties", {}))
            ref, attrs = creator(self, logical_id, props) if creator else (logical_id, {})
            self.resolver.refs[logical_id] = ref
            self.resolver.attrs[logical_id] = attrs
        return self.out

    def _order(self) -> list[str]:
        resources = self.stack.resources
        deps = {lid: (dependencies(r.get("Properties", {})) | set(_as_list(r.get("DependsOn"))))
                & resources.keys() for lid, r in resources.items()}
        ordered: list[str] = []
        done: set[str] = set()

        def visit(lid: str, path: tuple[str, ...] = ()) -> None:
            if lid in done:
                return
            if lid in path:
                raise ValueError(f"dependency cycle: {' -> '.join((*path, lid))}")
            for dep in sorted(deps[lid]):
                visit(dep, (*path, lid))
            done.add(lid)
            ordered.append(lid)

        for lid in sorted(resources):
            visit(lid)
        return ordered

    def _physical_name(self, logical_id: str) -> str:
        suffix = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8))
        return f"{self.stack.name}-{logical_id}-{suffix}"[:64]

    # ------------------------------------------------------------------ resource types
    def _create_role(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("RoleName") or self._physical_name(lid)
        role = self.client("iam").create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]))
        arn = role["Role"]["Arn"]
        self.out.roles[arn] = RoleSpec(lid, name, arn,
                                       role_documents(props, self.out.managed_policies),
                                       boundary_document(props, self.out.managed_policies))
        return name, {"Arn": arn}

    def _create_managed_policy(self, lid: str,
                               props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        # Kept as a document: the roles that attach it are checked against it.
        name = props.get("ManagedPolicyName") or self._physical_name(lid)
        arn = f"arn:aws:iam::{ACCOUNT}:policy/{name}"
        self.out.managed_policies[arn] = props["PolicyDocument"]
        return arn, {"PolicyArn": arn}

    def _create_permission(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        # Kept as configuration: the runtime's deliveries check it as Lambda checks a caller.
        self.out.permissions.append(props)
        return lid, {}

    def _create_layer(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        sam_id = next(k for k in self.stack.local_paths if lid.startswith(k))
        name = props.get("LayerName") or lid
        version = self.client("lambda").publish_layer_version(
            LayerName=name, Content={"ZipFile": _empty_zip()},
            CompatibleRuntimes=props.get("CompatibleRuntimes", []))
        arn = version["LayerVersionArn"]
        self._layers[arn] = self.stack.local_paths[sam_id]
        return arn, {}

    def _create_function(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("FunctionName") or self._physical_name(lid)
        env = props.get("Environment", {}).get("Variables", {})
        fn = self.client("lambda").create_function(
            FunctionName=name, Runtime=props["Runtime"], Role=props["Role"],
            Handler=props["Handler"], Code={"ZipFile": _empty_zip()},
            Timeout=props.get("Timeout", 3), MemorySize=props.get("MemorySize", 128),
            Environment={"Variables": {k: str(v) for k, v in env.items()}})
        from local.runtime.secrets_extension import is_extension_layer

        extension = any(is_extension_layer(arn) for arn in props.get("Layers", []))
        layers = [self._layers[arn] for arn in props.get("Layers", [])
                  if not is_extension_layer(arn)]
        self.out.functions[name] = FunctionSpec(
            logical_id=lid, name=name, arn=fn["FunctionArn"],
            code_dir=self.stack.local_paths[lid], handler=props["Handler"], layer_dirs=layers,
            environment={k: str(v) for k, v in env.items()}, timeout=props.get("Timeout", 3),
            role_arn=props["Role"], secrets_extension=extension)
        return name, {"Arn": fn["FunctionArn"]}

    def _create_queue(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("QueueName") or self._physical_name(lid)
        attributes = {k: (json.dumps(v) if isinstance(v, dict) else str(v))
                      for k, v in props.items() if k not in {"QueueName", "Tags"}}
        url = self.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{self.stack.parameters['AWS::Region']}:{ACCOUNT}:{name}"
        return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}

    def _create_bucket(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("BucketName") or self._physical_name(lid).lower()
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name)
        notifications = props.get("NotificationConfiguration", {})
        lambdas = [{"LambdaFunctionArn": c["Function"], "Events": [c["Event"]],
                    **({"Filter": {"Key": {"FilterRules": c["Filter"]["S3Key"]["Rules"]}}}
                       if "Filter" in c else {})}
                   for c in notifications.get("LambdaConfigurations", [])]
        if lambdas:
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"LambdaFunctionConfigurations": lambdas})
        cors = props.get("CorsConfiguration", {}).get("CorsRules")
        if cors:
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [_cors_rule(r)
                                                                              for r in cors]})
        region = self.stack.parameters["AWS::Region"]
        return name, {"Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com",
                      "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com"}

    def _create_event_bus(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        bus = self.client("events").create_event_bus(Name=props["Name"])
        return props["Name"], {"Arn": bus["EventBusArn"], "Name": props["Name"]}

    def _create_rule(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("Name") or self._physical_name(lid)
        events = self.client("events")
        kwargs: dict[str, Any] = {"Name": name, "State": props.get("State", "ENABLED")}
        if "EventBusName" in props:
            kwargs["EventBusName"] = props["EventBusName"]
        if "ScheduleExpression" in props:
            kwargs["ScheduleExpression"] = props["ScheduleExpression"]
        if "EventPattern" in props:
            kwargs["EventPattern"] = json.dumps(props["EventPattern"])
        rule_arn = events.put_rule(**kwargs)["RuleArn"]
        targets = [{k: v for k, v in t.items() if k in {"Id", "Arn", "Input", "InputPath"}}
                   for t in props.get("Targets", [])]
        events.put_targets(Rule=name, EventBusName=props.get("EventBusName", "default"),
                           Targets=targets)
        entry = {"name": name, "targets": targets, "expression": props.get("ScheduleExpression")}
        if entry["expression"]:
            self.out.schedules.append(entry)
        else:
            self.out.event_rules.append(entry)
        return name, {"Arn": rule_arn}

    def _create_mapping(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        # Kept out of moto on purpose: moto would deliver synchronously inside SendMessage,
        # with no batching, retries or redrive. The runtime polls the queue instead.
        function = self.out.functions[props["FunctionName"]]
        queue_url = next(a["QueueUrl"] for a in self.resolver.attrs.values()
                         if a.get("Arn") == props["EventSourceArn"])
        self.out.queue_mappings.append({
            "function": function.name, "queue_url": queue_url,
            "batch_size": int(props.get("BatchSize", 10)),
            "report_failures": "ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            "queue_arn": props["EventSourceArn"]})
        return lid, {}

    def _create_table(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("TableName") or self._physical_name(lid)
        table = self.client("dynamodb").create_table(
            TableName=name, AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"], BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"))
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            self.client("dynamodb").update_time_to_live(TableName=name,
                                                        TimeToLiveSpecification=ttl)
        return name, {"Arn": table["TableDescription"]["TableArn"]}

    def _create_secret(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("Name") or self._physical_name(lid)
        value = props.get("SecretString")
        if value is None:
            length = props.get("GenerateSecretString", {}).get("PasswordLength", 32)
            value = secrets.token_urlsafe(length)[:length]
        arn = self.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
        return arn, {"Id": arn}

    def _create_key(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        key = self.client("kms").create_key(Description=props.get("Description", lid))
        return key["KeyMetadata"]["KeyId"], {"Arn": key["KeyMetadata"]["Arn"]}

    def _create_state_machine(self, lid: str,
                              props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        sam_id = next(k for k in self.stack.local_paths if lid.startswith(k))
        definition = self.stack.local_paths[sam_id].read_text(encoding="utf-8")
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        name = props.get("StateMachineName") or self._physical_name(lid)
        arn = self.client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=props["RoleArn"],
            type=props.get("StateMachineType", "STANDARD"))["stateMachineArn"]
        self.out.machine_roles[arn] = props["RoleArn"]
        return arn, {"Name": name, "Arn": arn}

    def _create_email_identity(self, lid: str,
                               props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        # moto verifies an identity at once, as SES does after its owner clicks the link.
        identity = props["EmailIdentity"]
        ses = self.client("ses")
        if "@" in identity:
            ses.verify_email_identity(EmailAddress=identity)
        else:
            ses.verify_domain_identity(Domain=identity)
        return identity, {}

    def _create_cloudfront(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        # Kept as configuration: the local web front (local/runtime/cdn.py) serves by it.
        kind = self.stack.resources[lid]["Type"]
        ident = f"E{secrets.token_hex(6).upper()}"
        ref = f"arn:aws:cloudfront::{ACCOUNT}:function/{props.get('Name', lid)}" \
            if kind == "AWS::CloudFront::Function" else ident
        self.out.cdn[lid] = (kind, props, ref)
        return ref, {"Id": ident, "FunctionARN": ref, "DomainName": "localhost",
                     "Stage": "LIVE"}

    def _create_log_group(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("LogGroupName") or self._physical_name(lid)
        self.client("logs").create_log_group(logGroupName=name)
        if props.get("RetentionInDays"):
            self.client("logs").put_retention_policy(logGroupName=name,
                                                     retentionInDays=int(props["RetentionInDays"]))
        return name, {"Arn": f"arn:aws:logs:{self.stack.parameters['AWS::Region']}:{ACCOUNT}:"
                             f"log-group:{name}:*"}

    def _create_subscription_filter(self, lid: str,
                                    props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        # moto hands each batch put into the group to the destination Lambda (through the
        # runtime's invoke hook); the filter pattern is stored but not applied by moto.
        self.client("logs").put_subscription_filter(
            logGroupName=props["LogGroupName"], filterName=lid,
            filterPattern=props.get("FilterPattern", ""), destinationArn=props["DestinationArn"])
        return lid, {}

    def _create_invoke_config(self, lid: str,
                              props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        # Kept as configuration: the runtime's asynchronous deliveries retry and dead-letter
        # by it (moto neither retries nor sends to destinations).
        destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        queue_url = next((a["QueueUrl"] for a in self.resolver.attrs.values()
                          if destination and a.get("Arn") == destination), None)
        self.out.invoke_configs[props["FunctionName"]] = {
            "retries": int(props.get("MaximumRetryAttempts", 2)), "on_failure": queue_url}
        return lid, {}

    def _create_topic(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("TopicName") or self._physical_name(lid)
        arn = self.client("sns").create_topic(Name=name)["TopicArn"]
        return arn, {"TopicArn": arn, "TopicName": name}

    def _create_alarm(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        # Its properties are PutMetricAlarm's parameters; DescribeAlarms then answers with it.
        name = props.get("AlarmName") or self._physical_name(lid)
        self.client("cloudwatch").put_metric_alarm(**{"AlarmName": name, **props})
        return name, {"Arn": f"arn:aws:cloudwatch:{self.stack.parameters['AWS::Region']}:"
                             f"{ACCOUNT}:alarm:{name}"}

    def _create_dashboard(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        name = props.get("DashboardName") or self._physical_name(lid)
        self.client("cloudwatch").put_dashboard(DashboardName=name,
                                                DashboardBody=props["DashboardBody"])
        return name, {}

    def _create_http_api(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self.out.http_api = props["Body"]
        return "localapi", {"ApiEndpoint": "http://127.0.0.1"}

    def _create_http_stage(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self.out.http_stage = props
        return props.get("StageName", "$default"), {}


# Types not listed are skipped: the migrations
# custom resource's work is done by the runtime itself before any function starts.
_CREATORS: dict[str, Callable[..., tuple[Any, dict[str, Any]]]] = {
    "AWS::IAM::Role": Provisioner._create_role,
    "AWS::Lambda::LayerVersion": Provisioner._create_layer,
    "AWS::Lambda::Function": Provisioner._create_function,
    "AWS::SQS::Queue": Provisioner._create_queue,
    "AWS::S3::Bucket": Provisioner._create_bucket,
    "AWS::Events::EventBus": Provisioner._create_event_bus,
    "AWS::Events::Rule": Provisioner._create_rule,
    "AWS::Lambda::EventSourceMapping": Provisioner._create_mapping,
    "AWS::DynamoDB::Table": Provisioner._create_table,
    "AWS::SecretsManager::Secret": Provisioner._create_secret,
    "AWS::KMS::Key": Provisioner._create_key,
    "AWS::StepFunctions::StateMachine": Provisioner._create_state_machine,
    "AWS::ApiGatewayV2::Api": Provisioner._create_http_api,
    "AWS::Logs::LogGroup": Provisioner._create_log_group,
    "AWS::Logs::SubscriptionFilter": Provisioner._create_subscription_filter,
    "AWS::Lambda::EventInvokeConfig": Provisioner._create_invoke_config,
    "AWS::SNS::Topic": Provisioner._create_topic,
    "AWS::CloudWatch::Alarm": Provisioner._create_alarm,
    "AWS::CloudWatch::Dashboard": Provisioner._create_dashboard,
    "AWS::ApiGatewayV2::Stage": Provisioner._create_http_stage,
    "AWS::CloudFront::Distribution": Provisioner._create_cloudfront,
    "AWS::CloudFront::Function": Provisioner._create_cloudfront,
    "AWS::CloudFront::ResponseHeadersPolicy": Provisioner._create_cloudfront,
    "AWS::CloudFront::OriginAccessControl": Provisioner._create_cloudfront,
    "AWS::SES::EmailIdentity": Provisioner._create_email_identity,
    "AWS::Lambda::Permission": Provisioner._create_permission,
    "AWS::IAM::ManagedPolicy": Provisioner._create_managed_policy,
}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _empty_zip() -> bytes:
    # moto wants a code archive; the worker runs the code from its source folder instead.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "code runs from the local source tree")
    return buffer.getvalue()


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation CorsRule in the S3 API's spelling."""
    names = {"Id": "ID", "AllowedHeaders": "AllowedHeaders", "AllowedMethods": "AllowedMethods",
             "AllowedOrigins": "AllowedOrigins", "ExposedHeaders": "ExposeHeaders",
             "MaxAge": "MaxAgeSeconds"}
    return {names[k]: int(v) if k == "MaxAge" else v for k, v in rule.items()}
