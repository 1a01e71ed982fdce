# One image for every Omni process; the command picks which:
#   python -m services.<inventory|orders|customers|payments>.main
#   python -m services.gateway.main | python -m workflows.worker
#   omni migrate --service <service>
# Multi-stage: wheels are built with compilers in the first stage; the final
# stage has only the virtualenv and the code, and runs as a non-root user.

FROM python:3.11.11-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/omni
WORKDIR /src
COPY pyproject.toml README.md ./
COPY omni ./omni
COPY services ./services
COPY workflows ./workflows
COPY stack ./stack
# Not editable: the package (code, migrations, console assets) goes into the venv.
RUN /opt/omni/bin/pip install . \
 && /opt/omni/bin/python -m compileall -q /opt/omni/lib

FROM python:3.11.11-slim-bookworm
ENV PATH=/opt/omni/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 omni \
 && useradd --system --uid 10001 --gid omni --no-create-home --home-dir /nonexistent omni
COPY --from=build /opt/omni /opt/omni
# Run from a directory holding nothing but the installed package.
WORKDIR /app
USER 10001:10001
EXPOSE 8080 50051 50052 50053 50054 9090
CMD ["python", "-m", "services.gateway.main"]
