import sys

from ipcviz.cli.main import main

sys.exit(main())
