"""`python -m tools.deploy_check`: every deploy check; exit 1 on any problem."""

import sys

from tools.deploy_check import main

sys.exit(main())
