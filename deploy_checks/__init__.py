"""Offline checks of the deployment files: Dockerfiles, docker-compose.yml, k8s/, Argo CD and the
GitHub workflows, with the pinned tools of requirements-dev.txt and against the code itself."""
