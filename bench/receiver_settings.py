"""Benchmark settings for workers calling bench/receiver.py as if it were Tencent."""

import os

from bench.settings import *  # noqa: F403

# The receiver stands in for a real Tencent app; bench.settings otherwise forces the sandbox.
TIM_SDKAPPID = int(os.environ["TIM_SDKAPPID"])
TIM_SECRET_KEY = os.environ["TIM_SECRET_KEY"]
TIM_API_BASE_URL = os.environ["TIM_API_BASE_URL"]
