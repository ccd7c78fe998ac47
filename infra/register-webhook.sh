#!/usr/bin/env bash
# Registers the GitHub webhook that wakes Sluice on every push to the config
# repository: it generates a new webhook secret, stores it in the stack's
# Secrets Manager secret, and creates (or updates) the repository's webhook
# for push events with the stack's webhook URL and that secret.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: infra/register-webhook.sh [-s STACK] [-r OWNER/REPO] [-R REGION]

Registers (or re-registers, with a new secret) the GitHub webhook of a deployed
Sluice stack.

  -s STACK        CloudFormation stack name (default: sluice)
  -r OWNER/REPO   GitHub repository (default: from the stack's GitUrl parameter)
  -R REGION       AWS region of the stack (default: the AWS CLI's)
  -h              this help

Needs: aws (credentials that may read the stack and put the secret's value),
gh (logged in with the admin:repo_hook scope: gh auth refresh -s admin:repo_hook).
For GitHub Enterprise Server, set GH_HOST.
EOF
}

stack=sluice
repo=
region_args=()
while getopts "s:r:R:h" opt; do
	case "$opt" in
	s) stack=$OPTARG ;;
	r) repo=$OPTARG ;;
	R) region_args=(--region "$OPTARG") ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if (($# > 0)); then
	usage >&2
	exit 2
fi

for tool in aws gh; do
	if ! command -v "$tool" >/dev/null; then
		echo "register-webhook: $tool is not installed" >&2
		exit 1
	fi
done

# stack_value QUERY prints one value of the stack's description.
stack_value() {
	aws cloudformation describe-stacks ${region_args[@]+"${region_args[@]}"} --stack-name "$stack" \
		--query "Stacks[0].$1" --output text
}

url=$(stack_value "Outputs[?OutputKey=='WebhookUrl'].OutputValue")
secret_arn=$(stack_value "Outputs[?OutputKey=='WebhookSecretArn'].OutputValue")
if [[ -z $url || $url == None || -z $secret_arn || $secret_arn == None ]]; then
	echo "register-webhook: stack $stack has no WebhookUrl or WebhookSecretArn output; is it Sluice's, and deployed?" >&2
	exit 1
fi

if [[ -z $repo ]]; then
	# https://host/owner/repo(.git) or ssh://git@host/owner/repo(.git) → owner/repo
	git_url=$(stack_value "Parameters[?ParameterKey=='GitUrl'].ParameterValue")
	path=${git_url#*://}
	path=${path#*/}
	repo=${path%.git}
fi
if [[ ! $repo =~ ^[^/]+/[^/]+$ ]]; then
	echo "register-webhook: $repo is not OWNER/REPO; give it with -r" >&2
	exit 1
fi

# The secret and the hook's JSON go through files only this user can read,
# never through command lines (which other users can see).
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$tmp/secret"
secret=$(<"$tmp/secret")
if [[ ! $secret =~ ^[0-9a-f]{64}$ ]]; then
	echo "register-webhook: could not generate a secret" >&2
	exit 1
fi

# Store the secret first: the webhook function reads it when it starts, and
# GitHub sends a signed ping as soon as the hook exists.
aws secretsmanager put-secret-value ${region_args[@]+"${region_args[@]}"} --secret-id "$secret_arn" \
	--secret-string "file://$tmp/secret" >/dev/null
echo "Stored a new webhook secret in $secret_arn"

cat >"$tmp/hook.json" <<EOF
{
  "name": "web",
  "active": true,
  "events": ["push"],
  "config": {"url": "$url", "content_type": "json", "insecure_ssl": "0", "secret": "$secret"}
}
EOF

hook_id=$(gh api "repos/$repo/hooks" --paginate --jq ".[] | select(.config.url == \"$url\") | .id" | head -n 1)
if [[ -z $hook_id ]]; then
	hook_id=$(gh api "repos/$repo/hooks" --method POST --input "$tmp/hook.json" --jq .id)
	echo "Created webhook $hook_id on $repo → $url (GitHub sends a ping now)"
else
	gh api "repos/$repo/hooks/$hook_id" --method PATCH --input "$tmp/hook.json" --jq .id >/dev/null
	gh api "repos/$repo/hooks/$hook_id/pings" --method POST >/dev/null
	echo "Updated webhook $hook_id on $repo → $url with the new secret, and sent a ping"
	echo "Note: webhook function instances already running keep the previous secret until Lambda"
	echo "replaces them, and answer 401 meanwhile; redeliver those deliveries from GitHub, or let the"
	echo "drift function queue the reconcile it finds missing."
fi

echo "Deliveries: https://github.com/$repo/settings/hooks/$hook_id (Recent Deliveries), or"
echo "  gh api repos/$repo/hooks/$hook_id/deliveries --jq '.[] | [.delivered_at, .event, .status_code] | @tsv'"
