#!/bin/bash
# Ready hook: fail (state ERROR, and so an unhealthy container) unless every
# service the Partner API stack needs is available. A missing or invalid
# LOCALSTACK_AUTH_TOKEN, or a SERVICES typo, shows up here rather than as an
# obscure CloudFormation failure halfway through `make deploy-local`.
set -euo pipefail

required="dynamodb kms lambda apigateway iam logs cloudwatch secretsmanager sts s3 ssm cloudformation"
health=$(curl -fsS http://localhost:4566/_localstack/health)

missing=$(HEALTH="$health" REQUIRED="$required" python3 - <<'PY'
import json, os
services = json.loads(os.environ["HEALTH"]).get("services", {})
ok = {"available", "running"}
print(" ".join(s for s in os.environ["REQUIRED"].split() if services.get(s) not in ok))
PY
)

if [ -n "$missing" ]; then
  echo "partner-api: LocalStack services not available: $missing" >&2
  echo "partner-api: check LOCALSTACK_AUTH_TOKEN and SERVICES in localstack/compose.yaml" >&2
  exit 1
fi
echo "partner-api: LocalStack ready ($required)"
