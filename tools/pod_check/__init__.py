"""pod-check: every Deployment of a rendered overlay run as a pod would run, and probed.

    python -m tools.pod_check [--overlay dev] [--rounds 3] [--only NAME ...]

Renders the overlay (`kubectl kustomize`), makes the Secrets with the recipe of docs/deploying.md
(secrets.py), starts the overlay's datastores (its StatefulSets) and then every Deployment, each
as a pod of Docker containers on a private network, under the names its Services give it, with
its securityContext, env, volumes, resources and command (docker_args.py, env.py), and runs its
startup, readiness and liveness probes with the declared semantics (probes.py). Broken copies of
three Deployments run beside them and must fail (mutants.py). Exit 1 on any failure, each named by
workload, container and probe or reason. Everything it creates is labelled podcheck.run=<id> and
removed at the end, however the run ends.

No cluster runs here; this is the closest honest check of the pod specs. Modules: model (shared
types), secrets + kubectl_recorder, env, docker_args, probes, docker_cli, pods (one pod up),
standins (local stand-ins of the datastores' images), mutants, check (the run).
"""
