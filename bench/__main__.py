import sys

from lepton.bench.cli import main

sys.exit(main())
