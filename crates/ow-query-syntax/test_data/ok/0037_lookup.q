lookup users_table user_id OUTPUT username, email as userEmail
