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
import fnmatch
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

    def __init__(self, template: dict, parameters: dict[str, Any] | None = None, stack_name: str = STACK_NAME):
        self.template = template
        self.pseudo_parameters = {**PSEUDO_PARAMETERS, "AWS::StackName": stack_name}
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


def resolve(template: dict, stack_name: str = STACK_NAME, **parameters: Any) -> Resolver:
    return Resolver(copy.deepcopy(template), parameters, stack_name)


# ---------------------------------------------------------------------- IAM


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _iam_match(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM wildcards: * any run of characters, ? one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.fullmatch(regex, value, flags) is not None


def _condition_holds(operator: str, key: str, expected: Any, context: dict[str, Any]) -> bool:
    wanted = [str(v) for v in as_list(expected)]
    present = key in context
    actual = str(context[key]) if present else None
    if operator == "StringEquals":
        return present and actual in wanted
    if operator == "StringNotEquals":
        return not present or actual not in wanted
    if operator == "StringLike":
        return present and any(fnmatch.fnmatchcase(actual, w) for w in wanted)
    if operator == "Bool":
        return present and actual.lower() in [w.lower() for w in wanted]
    if operator == "Null":
        return (not present) == (wanted[0].lower() == "true")
    raise ValueError(f"condition operator {operator} is not modelled by this evaluator")


def statement_applies(statement: dict, action: str, resource: str, context: dict[str, Any]) -> bool:
    if "NotAction" in statement or "NotResource" in statement:
        raise ValueError("NotAction/NotResource are not modelled by this evaluator")
    if not any(_iam_match(a, action, case_sensitive=False) for a in as_list(statement["Action"])):
        return False
    if not any(_iam_match(r, resource) for r in as_list(statement["Resource"])):
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


def tags(prefix: str, tags_: dict[str, str]) -> dict[str, str]:
    """Condition context entries for tags, e.g. tags('aws:ResourceTag', {...})."""
    return {f"{prefix}/{k}": v for k, v in tags_.items()}
