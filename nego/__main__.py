from nego.cli import main

main()
