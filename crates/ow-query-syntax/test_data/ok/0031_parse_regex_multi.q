parse @message /user=(?<user>\S+)/ multi | stats count(*) by user
