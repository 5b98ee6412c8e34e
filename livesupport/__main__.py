import sys

from livesupport.cli import main

sys.exit(main())
