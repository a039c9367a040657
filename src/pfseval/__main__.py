from pfseval.cli import main

main()
