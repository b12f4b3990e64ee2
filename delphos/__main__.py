from delphos.cli import main

raise SystemExit(main())
