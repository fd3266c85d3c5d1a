expand tags | stats count(*) by tags
