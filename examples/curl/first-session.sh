#!/bin/sh
# The README's first session: a project, a model, two versions, the `production` alias moved
# from version 1 to 2, then where it points now, where it pointed between the moves (`asOf`),
# and its history. test/docs.test.ts runs this script against a real server.
#
#   sh examples/curl/first-session.sh
#
# MODELGRAPH_URL  the server (default http://127.0.0.1:4000/graphql)
# MODELGRAPH_KEY  an EDITOR or ADMIN key (default: the first ADMIN key, .modelgraph/admin-key)
# PROJECT         the new project's slug (default search; a slug can be taken only once)
set -eu
URL=${MODELGRAPH_URL:-http://127.0.0.1:4000/graphql}
KEY=${MODELGRAPH_KEY:-$(cat .modelgraph/admin-key)}
P=${PROJECT:-search}
gql() { curl -sS "$URL" -H "authorization: Bearer $KEY" -H 'content-type: application/json' -d "$1"; echo; }

# A project and a model
gql '{"query":"mutation($p: String!) { createProject(input: {slug: $p, name: \"Search\"}) { project { id slug } } }","variables":{"p":"'"$P"'"}}'
gql '{"query":"mutation($p: String!) { createModel(input: {projectSlug: $p, name: \"ranker\", kind: INTERNAL, task: \"ranking\"}) { model { id } } }","variables":{"p":"'"$P"'"}}'
MODEL=$(gql '{"query":"query($p: String!) { project(slug: $p) { model(name: \"ranker\") { id } } }","variables":{"p":"'"$P"'"}}' | sed -E 's/.*"id":"([^"]+)".*/\1/')

# Two versions: the server numbers them 1 and 2
gql '{"query":"mutation($m: ID!) { createModelVersion(input: {modelId: $m, artifact: {uri: \"s3://models/ranker/1\"}}) { modelVersion { number } } }","variables":{"m":"'"$MODEL"'"}}'
gql '{"query":"mutation($m: ID!) { createModelVersion(input: {modelId: $m, artifact: {uri: \"s3://models/ranker/2\"}, idempotencyKey: \"train-run-2\"}) { modelVersion { number } } }","variables":{"m":"'"$MODEL"'"}}'

# Point production at 1, then move it to 2 (expectedRevision guards against a concurrent move);
# BETWEEN is a moment after the first move and before the second (this machine's clock, in UTC)
gql '{"query":"mutation($m: ID!) { setModelAlias(input: {modelId: $m, alias: \"production\", versionNumber: 1, expectedRevision: 0}) { alias { revision } } }","variables":{"m":"'"$MODEL"'"}}'
sleep 1; BETWEEN=$(date -u +%Y-%m-%dT%H:%M:%SZ); sleep 1
gql '{"query":"mutation($m: ID!) { setModelAlias(input: {modelId: $m, alias: \"production\", versionNumber: 2, expectedRevision: 1, reason: \"better NDCG\"}) { alias { revision } } }","variables":{"m":"'"$MODEL"'"}}'

# Read it back: where production points now, where it pointed at BETWEEN, and every move
gql '{"query":"query($p: String!, $t: DateTime!) { project(slug: $p) { model(name: \"ranker\") { now: alias(name: \"production\") { number } then: alias(name: \"production\", asOf: $t) { number } aliasHistory { nodes { at actor reason fromVersion { number } toVersion { number } } } } } }","variables":{"p":"'"$P"'","t":"'"$BETWEEN"'"}}'
