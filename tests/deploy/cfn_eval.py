"""Resolves a CloudFormation template for concrete parameter values, and
evaluates IAM policy statements against requests, for the deployment tests.

The template is read with cfn-lint's own YAML decoder (it understands the
short intrinsic forms). The resolver covers the intrinsic functions our
templates use; anything else raises, so a test never silently checks an
unresolved value. The IAM evaluator covers the condition operators our
policies use, with AWS's semantics for missing keys.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]

STACK_NAME = "acm-test"
REGION = "eu-west-1"
ACCOUNT = "111122223333"
PARTITION = "aws"

PSEUDO_PARAMETERS = {
    "AWS::StackName": STACK_NAME,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": PARTITION,
    "AWS::URLSuffix": "amazonaws.com",
}


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

# Properties whose value is what Ref returns for these resource types.
_NAME_PROPERTIES = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SSM::Parameter": "Name",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::CodeBuild::Project": "Name",
}


def plain(value: Any) -> Any:
    """cfn-lint's node classes as plain dicts, lists and strings."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def load(relative_path: str) -> dict:
    return plain(cfn_yaml.load(str(ROOT / relative_path)))


class Resolver:
    """One template resolved for one set of parameter values."""

    def __init__(
        self,
        template: dict,
        parameters: dict[str, Any] | None = None,
        stack_name: str = STACK_NAME,
        region: str = REGION,
        account: str = ACCOUNT,
    ):
        self.template = template
        self.pseudo_parameters = {
            **PSEUDO_PARAMETERS,
            "AWS::StackName": stack_name,
            "AWS::Region": region,
            "AWS::AccountId": account,
        }
        self.parameters = self._parameter_values(parameters or {})
        self._conditions: dict[str, bool] = {}

    def _parameter_values(self, given: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in self.template.get("Parameters", {}).items():
            if name in given:
                raw = given[name]
            elif "Default" in spec:
                raw = spec["Default"]
            else:
                raise KeyError(f"parameter {name} has no default; give a value")
            if spec["Type"] == "CommaDelimitedList":
                values[name] = raw if isinstance(raw, list) else [s.strip() for s in str(raw).split(",")]
            else:
                values[name] = str(raw).lower() if isinstance(raw, bool) else str(raw)
        unknown = set(given) - set(values)
        if unknown:
            raise KeyError(f"unknown parameters {sorted(unknown)}")
        return values

    # -- conditions --------------------------------------------------------

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = self._condition_value(self.template["Conditions"][name])
        return self._conditions[name]

    def _condition_value(self, expr: Any) -> bool:
        (fn, args), = expr.items()
        if fn == "Fn::Equals":
            return self.resolve(args[0]) == self.resolve(args[1])
        if fn == "Fn::Not":
            return not self._condition_value(args[0])
        if fn == "Fn::And":
            return all(self._condition_value(a) for a in args)
        if fn == "Fn::Or":
            return any(self._condition_value(a) for a in args)
        if fn == "Condition":
            return self.condition(args)
        raise ValueError(f"unsupported condition function {fn}")

    # -- references --------------------------------------------------------

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo_parameters:
            return self.pseudo_parameters[name]
        if name in self.parameters:
            return self.parameters[name]
        resource = self.template["Resources"][name]
        name_property = _NAME_PROPERTIES.get(resource["Type"])
        if name_property and name_property in resource.get("Properties", {}):
            return self.resolve(resource["Properties"][name_property])
        return f"<Ref:{name}>"

    def get_att(self, name: str, attribute: str) -> str:
        resource = self.template["Resources"][name]
        if resource["Type"] == "AWS::Lambda::Function" and attribute == "Arn":
            region, account = self.pseudo_parameters["AWS::Region"], self.pseudo_parameters["AWS::AccountId"]
            return f"arn:{PARTITION}:lambda:{region}:{account}:function:{self.ref(name)}"
        return f"<GetAtt:{name}.{attribute}>"

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match) -> str:
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in variables:
                value = variables[inner]
            elif "." in inner and not inner.startswith("AWS::"):
                value = self.get_att(*inner.split(".", 1))
            else:
                value = self.ref(inner)
            if not isinstance(value, str):
                raise ValueError(f"Fn::Sub variable {inner} is not a string: {value!r}")
            return value

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    # -- values --------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, args), = value.items()
            if key == "Ref":
                return self.ref(args)
            if key.startswith("Fn::"):
                return self._function(key, args)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _function(self, fn: str, args: Any) -> Any:
        if fn == "Fn::If":
            name, when_true, when_false = args
            return self.resolve(when_true if self.condition(name) else when_false)
        if fn == "Fn::Sub":
            if isinstance(args, str):
                return self._sub(args, {})
            text, variables = args
            return self._sub(text, {k: self.resolve(v) for k, v in variables.items()})
        if fn == "Fn::Join":
            delimiter, items = args
            if not isinstance(delimiter, str):
                raise ValueError("Fn::Join delimiter must be a literal string")
            resolved = self.resolve(items)
            return delimiter.join(self._strings(resolved, fn))
        if fn == "Fn::Split":
            delimiter, text = args
            return self.resolve(text).split(delimiter)
        if fn == "Fn::Select":
            index, items = args
            return self.resolve(items)[int(self.resolve(index))]
        if fn == "Fn::GetAtt":
            name, attribute = args if isinstance(args, list) else args.split(".", 1)
            return self.get_att(name, attribute)
        if fn == "Fn::ImportValue":
            return f"<Import:{self.resolve(args)}>"
        if fn in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
            return self._condition_value({fn: args})
        raise ValueError(f"unsupported intrinsic function {fn}")

    @staticmethod
    def _strings(values: Any, fn: str) -> list[str]:
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"{fn} needs a list of strings, got {values!r}")
        return values

    # -- the whole template ------------------------------------------------------

    def resources(self) -> dict[str, dict]:
        """Resources that exist for these parameters, properties resolved."""
        result = {}
        for name, resource in self.template["Resources"].items():
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            resolved = dict(resource)
            resolved["Properties"] = self.resolve(resource.get("Properties", {}))
            result[name] = resolved
        return result

    def outputs(self) -> dict[str, dict]:
        result = {}
        for name, output in self.template.get("Outputs", {}).items():
            if "Condition" in output and not self.condition(output["Condition"]):
                continue
            result[name] = self.resolve({k: v for k, v in output.items() if k != "Condition"})
        return result


def resolve(
    template: dict, stack_name: str = STACK_NAME, region: str = REGION, account: str = ACCOUNT, **parameters: Any
) -> Resolver:
    return Resolver(copy.deepcopy(template), parameters, stack_name, region, account)


# ---------------------------------------------------------------------- IAM


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _iam_match(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM wildcards: * any run of characters, ? one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.fullmatch(regex, value, flags) is not None


def _condition_holds(operator: str, key: str, expected: Any, context: dict[str, Any]) -> bool:
    """One condition. A context value may be a list (a multi-valued key such as
    kms:GrantOperations or aws:TagKeys); single-valued operators then hold when any
    value does."""
    wanted = [str(v) for v in as_list(expected)]
    present = key in context
    values = [str(v) for v in as_list(context[key])] if present else []
    like = lambda pattern, value: _iam_match(pattern, value)  # noqa: E731
    if operator in ("StringEquals", "ArnEquals"):
        return any(v in wanted for v in values)
    if operator in ("StringNotEquals", "ArnNotEquals"):
        return not any(v in wanted for v in values)
    if operator in ("StringLike", "ArnLike"):
        return any(like(w, v) for v in values for w in wanted)
    if operator in ("StringNotLike", "ArnNotLike"):
        return not any(like(w, v) for v in values for w in wanted)
    if operator == "Bool":
        return any(v.lower() in [w.lower() for w in wanted] for v in values)
    if operator == "Null":
        return (not present) == (wanted[0].lower() == "true")
    if operator == "ForAllValues:StringEquals":
        return all(v in wanted for v in values)
    if operator == "ForAllValues:StringLike":
        return all(any(like(w, v) for w in wanted) for v in values)
    raise ValueError(f"condition operator {operator} is not modelled by this evaluator")


def statement_applies(statement: dict, action: str, resource: str, context: dict[str, Any]) -> bool:
    if "NotAction" in statement:
        raise ValueError("NotAction is not modelled by this evaluator")
    if not any(_iam_match(a, action, case_sensitive=False) for a in as_list(statement["Action"])):
        return False
    if "NotResource" in statement:
        if any(_iam_match(r, resource) for r in as_list(statement["NotResource"])):
            return False
    elif not any(_iam_match(r, resource) for r in as_list(statement["Resource"])):
        return False
    for operator, keys in statement.get("Condition", {}).items():
        for key, expected in keys.items():
            if not _condition_holds(operator, key, expected, context):
                return False
    return True


def is_allowed(statements: list[dict], action: str, resource: str, context: dict[str, Any] | None = None) -> bool:
    """Identity-policy decision: an explicit Deny wins, then any Allow."""
    context = context or {}
    applying = [s for s in statements if statement_applies(s, action, resource, context)]
    if any(s["Effect"] == "Deny" for s in applying):
        return False
    return any(s["Effect"] == "Allow" for s in applying)


# ------------------------------------------------------- resource policies


def principal_arn(arn: str) -> str:
    """What IAM compares as aws:PrincipalArn: a role session is its role."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"
    return arn


def _principal_match(statement: dict, principal: str) -> str | None:
    """'named' when the statement names the principal (or everyone), 'account' when it
    names the principal's account (a delegation to the account's IAM policies)."""
    given = statement.get("Principal")
    if given == "*":
        return "named"
    names = as_list(given.get("AWS", [])) if isinstance(given, dict) else []
    account = principal.split(":")[4] if principal.count(":") >= 4 else ""
    if "*" in names or principal in names:
        return "named"
    if any(n == account or n == f"arn:{PARTITION}:iam::{account}:root" or (n.endswith(":root") and n.split(":")[4] == account) for n in names):
        return "account"
    return None


def resource_policy_decision(statements: list[dict], principal: str, action: str, resource: str, context: dict[str, Any]) -> str:
    """'deny', 'allow' (the principal by name), 'account' (delegated) or 'silent'."""
    context = {"aws:PrincipalArn": principal, **context}
    decision = "silent"
    for s in statements:
        match = _principal_match(s, principal)
        if match is None or not statement_applies({**s, "Resource": s.get("Resource", "*")}, action, resource, context):
            continue
        if s["Effect"] == "Deny":
            return "deny"
        if match == "named":
            decision = "allow"
        elif decision == "silent":
            decision = "account"
    return decision


def is_allowed_by_key(
    identity: list[dict], key_policy: list[dict], principal: str, action: str, resource: str, context: dict[str, Any] | None = None
) -> bool:
    """KMS: the key policy is the primary control. An explicit deny anywhere refuses; the
    key policy naming the principal allows; a key policy naming the account lets the
    principal's IAM policies decide; otherwise no IAM policy helps
    (https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html)."""
    context = {"aws:PrincipalArn": principal, **(context or {})}
    applying = [s for s in identity if statement_applies(s, action, resource, context)]
    if any(s["Effect"] == "Deny" for s in applying):
        return False
    decision = resource_policy_decision(key_policy, principal, action, resource, context)
    if decision == "allow":
        return True
    if decision == "account":
        return any(s["Effect"] == "Allow" for s in applying)
    return False


def is_allowed_with_resource_policy(
    identity: list[dict], resource_policy: list[dict], principal: str, action: str, resource: str, context: dict[str, Any] | None = None
) -> bool:
    """A same-account service with resource policies (Secrets Manager): an explicit deny in
    either refuses; an allow in either allows."""
    context = {"aws:PrincipalArn": principal, **(context or {})}
    applying = [s for s in identity if statement_applies(s, action, resource, context)]
    if any(s["Effect"] == "Deny" for s in applying):
        return False
    decision = resource_policy_decision(resource_policy, principal, action, resource, context)
    if decision == "deny":
        return False
    return decision == "allow" or any(s["Effect"] == "Allow" for s in applying)


def tags(prefix: str, tags_: dict[str, str]) -> dict[str, str]:
    """Condition context entries for tags, e.g. tags('aws:ResourceTag', {...})."""
    return {f"{prefix}/{k}": v for k, v in tags_.items()}
