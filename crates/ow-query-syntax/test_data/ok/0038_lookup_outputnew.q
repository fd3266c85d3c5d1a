lookup users_table uid as user_id outputnew username
