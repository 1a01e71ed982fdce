from services.common.migrations import run_env
from services.gateway.store import metadata

run_env(metadata)
