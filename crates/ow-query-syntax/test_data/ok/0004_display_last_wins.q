parse @message "[*] *" as loggingType, loggingMessage | display loggingType | DISPLAY loggingMessage, loggingType = "ERROR" as isError
