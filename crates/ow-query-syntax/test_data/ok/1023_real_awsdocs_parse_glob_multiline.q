# source: awsdocs CWL_QuerySyntax.md
parse @message "user=*, method:*, latency := *" as @user,
    @method, @latency | stats avg(@latency) by @method,
    @user
