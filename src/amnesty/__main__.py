from amnesty.cli import main

main()
