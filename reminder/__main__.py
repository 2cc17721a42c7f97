from reminder.cli import main

main()
