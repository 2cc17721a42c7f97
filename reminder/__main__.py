from reminder.cli.entry import main

main()
