parse "[*] *" as level, text
